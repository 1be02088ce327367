import { join } from 'node:path';
import { z } from 'zod';
import { crmHome, loadConfig, setting, type Env } from '@crm/runtime';
import { DEFAULT_LIMITS, type HostLimits } from './limits.js';

/** A comma-separated list; empty means none. */
const list = () =>
  z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== ''),
    );

const count = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

/** Every setting is documented, with its default, in docs/CLICKHOUSE-HOST.md. */
export const hostConfigSchema = z.object({
  CRM_CLICKHOUSE_HOST: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port; the `listening` log line says which. */
  CRM_CLICKHOUSE_PORT: setting.port(8123),
  /** Default `<CRM_HOME>/clickhouse`; chDB lets one process at a time open it. */
  CRM_CLICKHOUSE_DATA_DIR: z.string().min(1).optional(),
  /** The same names the clients read: the host's one user and its password (`crm up` generates one when unset). */
  CLICKHOUSE_USER: z.string().min(1).default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  CRM_CLICKHOUSE_ALLOWED_ORIGINS: list(),
  CRM_CLICKHOUSE_ALLOWED_HOSTS: list(),
  /** Default `<data dir>/user_files`. */
  CRM_CLICKHOUSE_USER_FILES_DIR: z.string().min(1).optional(),
  CRM_CLICKHOUSE_REMOTE_SOURCES: list(),
  CRM_CLICKHOUSE_MAX_BODY_BYTES: setting.positiveInt(DEFAULT_LIMITS.maxBodyBytes),
  CRM_CLICKHOUSE_MAX_CONNECTIONS: setting.positiveInt(DEFAULT_LIMITS.maxConnections),
  CRM_CLICKHOUSE_MAX_CONCURRENT_QUERIES: setting.positiveInt(DEFAULT_LIMITS.maxConcurrentQueries),
  CRM_CLICKHOUSE_MAX_SESSIONS: setting.positiveInt(DEFAULT_LIMITS.maxSessions),
  CRM_CLICKHOUSE_DEFAULT_SESSION_TIMEOUT: setting.positiveInt(DEFAULT_LIMITS.defaultSessionTimeoutSeconds),
  CRM_CLICKHOUSE_MAX_SESSION_TIMEOUT: setting.positiveInt(DEFAULT_LIMITS.maxSessionTimeoutSeconds),
  /** 0 = no limit, as on a server. */
  CRM_CLICKHOUSE_MAX_EXECUTION_TIME: count(DEFAULT_LIMITS.maxExecutionTimeSeconds),
  CRM_CLICKHOUSE_MAX_MEMORY_USAGE: count(DEFAULT_LIMITS.maxMemoryUsageBytes),
  LOG_LEVEL: setting.logLevel(),
});

export type HostConfig = Omit<z.infer<typeof hostConfigSchema>, 'CRM_CLICKHOUSE_DATA_DIR' | 'CRM_CLICKHOUSE_USER_FILES_DIR'> & {
  CRM_CLICKHOUSE_DATA_DIR: string;
  CRM_CLICKHOUSE_USER_FILES_DIR: string;
};

export function loadHostConfig(env: Env = process.env): Readonly<HostConfig> {
  const config = loadConfig(hostConfigSchema, env);
  // The defaults depend on CRM_HOME, which is read from the same environment.
  const dataDir = config.CRM_CLICKHOUSE_DATA_DIR ?? join(crmHome(env), 'clickhouse');
  return Object.freeze({ ...config, CRM_CLICKHOUSE_DATA_DIR: dataDir, CRM_CLICKHOUSE_USER_FILES_DIR: config.CRM_CLICKHOUSE_USER_FILES_DIR ?? join(dataDir, 'user_files') });
}

/** The host's limits from its configuration. */
export function limitsOf(config: HostConfig): HostLimits {
  return {
    maxBodyBytes: config.CRM_CLICKHOUSE_MAX_BODY_BYTES,
    maxConnections: config.CRM_CLICKHOUSE_MAX_CONNECTIONS,
    maxConcurrentQueries: config.CRM_CLICKHOUSE_MAX_CONCURRENT_QUERIES,
    maxSessions: config.CRM_CLICKHOUSE_MAX_SESSIONS,
    defaultSessionTimeoutSeconds: config.CRM_CLICKHOUSE_DEFAULT_SESSION_TIMEOUT,
    maxSessionTimeoutSeconds: config.CRM_CLICKHOUSE_MAX_SESSION_TIMEOUT,
    maxExecutionTimeSeconds: config.CRM_CLICKHOUSE_MAX_EXECUTION_TIME,
    maxMemoryUsageBytes: config.CRM_CLICKHOUSE_MAX_MEMORY_USAGE,
  };
}
