import './libuv-threads.js';
import { mkdirSync } from 'node:fs';
import { createLogger, exitOnSignal, exitOnStartupError } from '@crm/runtime';
import { limitsOf, loadHostConfig } from './config.js';
import { startClickHouseHost } from './host.js';

const logger = createLogger('clickhouse-host');
try {
  const config = loadHostConfig();
  logger.level = config.LOG_LEVEL;
  mkdirSync(config.CRM_CLICKHOUSE_DATA_DIR, { recursive: true });
  const host = await startClickHouseHost({
    dataDir: config.CRM_CLICKHOUSE_DATA_DIR,
    host: config.CRM_CLICKHOUSE_HOST,
    port: config.CRM_CLICKHOUSE_PORT,
    logger,
    user: config.CLICKHOUSE_USER,
    password: config.CLICKHOUSE_PASSWORD,
    allowedOrigins: config.CRM_CLICKHOUSE_ALLOWED_ORIGINS,
    allowedHosts: config.CRM_CLICKHOUSE_ALLOWED_HOSTS,
    userFilesDir: config.CRM_CLICKHOUSE_USER_FILES_DIR,
    remoteSources: config.CRM_CLICKHOUSE_REMOTE_SOURCES,
    limits: limitsOf(config),
  }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`port ${config.CRM_CLICKHOUSE_PORT} on ${config.CRM_CLICKHOUSE_HOST} is already in use (CRM_CLICKHOUSE_PORT)`, { cause: error });
    }
    throw error;
  });
  // Other processes read the port from this line.
  logger.info(
    { port: host.port, url: host.url, dataDir: config.CRM_CLICKHOUSE_DATA_DIR, userFiles: config.CRM_CLICKHOUSE_USER_FILES_DIR, passwordRequired: config.CLICKHOUSE_PASSWORD !== '' },
    'listening',
  );
  exitOnSignal(logger, () => host.close());
} catch (error) {
  exitOnStartupError(logger, error);
}
