import { z } from 'zod';
import { ConfigError, setting } from '@crm/runtime';

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
  /** PEM CA bundle an https:// CLICKHOUSE_URL's certificate must chain to; unset: Node's built-in CAs. */
  CLICKHOUSE_CA_FILE: setting.file(),
  /** PEM client certificate and key, for a server that verifies clients (needs CLICKHOUSE_CA_FILE too). */
  CLICKHOUSE_CERT_FILE: setting.file(),
  CLICKHOUSE_KEY_FILE: setting.file(),
};

/** Where a server is and who we are to it: what tests pass around as environment variables. */
export interface ClickHouseAddress {
  CLICKHOUSE_URL: string;
  CLICKHOUSE_USER: string;
  CLICKHOUSE_PASSWORD: string;
  CLICKHOUSE_DATABASE: string;
}

export interface ClickHouseConfig extends ClickHouseAddress {
  CLICKHOUSE_CA_FILE?: Buffer | undefined;
  CLICKHOUSE_CERT_FILE?: Buffer | undefined;
  CLICKHOUSE_KEY_FILE?: Buffer | undefined;
}

/**
 * The one mapping of the TLS settings onto @clickhouse/client's `tls` (which takes a client
 * certificate only beside a CA). Settings that do not go together stop start-up naming them,
 * rather than silently talking plain HTTP or failing at the first query.
 */
export function clickhouseTls(config: ClickHouseConfig): { ca_cert: Buffer } | { ca_cert: Buffer; cert: Buffer; key: Buffer } | undefined {
  const { CLICKHOUSE_CA_FILE: ca, CLICKHOUSE_CERT_FILE: cert, CLICKHOUSE_KEY_FILE: key } = config;
  const problems: string[] = [];
  if ((cert === undefined) !== (key === undefined)) problems.push(cert ? 'CLICKHOUSE_KEY_FILE: required with CLICKHOUSE_CERT_FILE' : 'CLICKHOUSE_CERT_FILE: required with CLICKHOUSE_KEY_FILE');
  if (cert !== undefined && ca === undefined) problems.push('CLICKHOUSE_CA_FILE: required with a client certificate (CLICKHOUSE_CERT_FILE)');
  const https = config.CLICKHOUSE_URL.startsWith('https://');
  if ((ca !== undefined || cert !== undefined) && !https) problems.push(`CLICKHOUSE_URL: must be https:// when CLICKHOUSE_CA_FILE or CLICKHOUSE_CERT_FILE is set (got ${JSON.stringify(config.CLICKHOUSE_URL)})`);
  if (problems.length > 0) throw new ConfigError(problems);
  if (ca === undefined) return undefined;
  return cert !== undefined && key !== undefined ? { ca_cert: ca, cert, key } : { ca_cert: ca };
}
