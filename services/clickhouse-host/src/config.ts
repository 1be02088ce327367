import { join } from 'node:path';
import { z } from 'zod';
import { crmHome, loadConfig, setting, type Env } from '@crm/runtime';

export const hostConfigSchema = z.object({
  CRM_CLICKHOUSE_HOST: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port; the `listening` log line says which. */
  CRM_CLICKHOUSE_PORT: setting.port(8123),
  /** Default `<CRM_HOME>/clickhouse`; chDB lets one process at a time open it. */
  CRM_CLICKHOUSE_DATA_DIR: z.string().min(1).optional(),
  LOG_LEVEL: setting.logLevel(),
});

export interface HostConfig {
  CRM_CLICKHOUSE_HOST: string;
  CRM_CLICKHOUSE_PORT: number;
  CRM_CLICKHOUSE_DATA_DIR: string;
  LOG_LEVEL: string;
}

export function loadHostConfig(env: Env = process.env): Readonly<HostConfig> {
  const config = loadConfig(hostConfigSchema, env);
  // The default depends on CRM_HOME, which is read from the same environment.
  return Object.freeze({ ...config, CRM_CLICKHOUSE_DATA_DIR: config.CRM_CLICKHOUSE_DATA_DIR ?? join(crmHome(env), 'clickhouse') });
}
