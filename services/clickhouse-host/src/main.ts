import './libuv-threads.js';
import { mkdirSync } from 'node:fs';
import { createLogger, exitOnSignal, exitOnStartupError } from '@crm/runtime';
import { loadHostConfig } from './config.js';
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
  }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`port ${config.CRM_CLICKHOUSE_PORT} on ${config.CRM_CLICKHOUSE_HOST} is already in use (CRM_CLICKHOUSE_PORT)`, { cause: error });
    }
    throw error;
  });
  // Other processes read the port from this line.
  logger.info({ port: host.port, url: host.url, dataDir: config.CRM_CLICKHOUSE_DATA_DIR }, 'listening');
  exitOnSignal(logger, () => host.close());
} catch (error) {
  exitOnStartupError(logger, error);
}
