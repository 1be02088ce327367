import { z } from 'zod';

/** ClickHouse settings shared by every service and the CLI. */
export const clickhouseSettings = {
  /** The embedded host (`crm up`) by default; any ClickHouse server's HTTP endpoint otherwise. */
  CLICKHOUSE_URL: z.string().url().default(`http://127.0.0.1:${process.env.CRM_CLICKHOUSE_PORT || '8123'}`),
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a plain identifier (letters, digits, underscore)')
    .default('crm'),
};

export interface ClickHouseConfig {
  CLICKHOUSE_URL: string;
  CLICKHOUSE_USER: string;
  CLICKHOUSE_PASSWORD: string;
  CLICKHOUSE_DATABASE: string;
}
