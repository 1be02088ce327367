import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { crmHome, createLogger, exitOnSignal, exitOnStartupError, loadConfig, setting } from '@crm/runtime';
import { startClickHouseHost } from './host.js';

const logger = createLogger('clickhouse-host');
try {
  const config = loadConfig(
    z.object({
      CRM_CLICKHOUSE_HOST: z.string().default('127.0.0.1'),
      CRM_CLICKHOUSE_PORT: setting.port(8123),
      /** chDB binds one data directory per process: this host is its only owner. */
      CRM_CLICKHOUSE_DATA_DIR: z.string().default(join(crmHome(), 'clickhouse')),
      LOG_LEVEL: setting.logLevel(),
    }),
  );
  logger.level = config.LOG_LEVEL;
  mkdirSync(config.CRM_CLICKHOUSE_DATA_DIR, { recursive: true });
  let host;
  try {
    host = await startClickHouseHost({ dataDir: config.CRM_CLICKHOUSE_DATA_DIR, host: config.CRM_CLICKHOUSE_HOST, port: config.CRM_CLICKHOUSE_PORT, logger });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`CRM_CLICKHOUSE_PORT ${config.CRM_CLICKHOUSE_PORT} is already in use`);
    throw new Error(`could not open ${config.CRM_CLICKHOUSE_DATA_DIR}: is another process using it? (${(error as Error).message})`);
  }
  logger.info({ port: host.port, url: host.url, dataDir: config.CRM_CLICKHOUSE_DATA_DIR }, 'listening');
  exitOnSignal(logger, () => host.close());
} catch (error) {
  exitOnStartupError(logger, error);
}
