import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnService } from './processes.js';
import { createClickHouse, migrate, type ClickHouseClient, type ClickHouseAddress } from '@crm/clickhouse';

export interface TestClickHouse {
  url: string;
  user: string;
  password: string;
  /** The embedded host's process (absent for a container). */
  pid?: number;
  stop(): Promise<void>;
}

/**
 * A ClickHouse for one test file: the embedded host in its own process and
 * data directory (exactly what `crm up` runs), or a testcontainers server
 * where TESTCONTAINERS=1. Either way tests reach it over HTTP.
 * `password`: a random one by default; '' for callers that reach the host by URL alone (the benchmarks).
 * `logTo`: a file that receives the host's log (JSON lines) when it stops.
 */
export async function startTestClickHouse(options: { password?: string; env?: Record<string, string>; logTo?: string } = {}): Promise<TestClickHouse> {
  if (process.env.TESTCONTAINERS === '1') {
    const { startClickHouseContainer } = await import('./containers.js');
    return startClickHouseContainer();
  }
  const dir = mkdtempSync(join(tmpdir(), 'crm-test-ch-'));
  // A password, as `crm up` gives the host one, so every test that uses this host goes through authentication.
  const password = options.password ?? randomBytes(12).toString('hex');
  const host = spawnService('services/clickhouse-host/src/main.ts', { CRM_CLICKHOUSE_PORT: '0', CRM_CLICKHOUSE_DATA_DIR: dir, CLICKHOUSE_PASSWORD: password, ...options.env });
  const listening = await host.waitForLog((l) => l.msg === 'listening', 120_000);
  return {
    url: String(listening.url),
    user: 'default',
    password,
    pid: host.child.pid!,
    stop: async () => {
      await host.kill('SIGTERM');
      if (options.logTo) host.saveLog(options.logTo);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A database of its own on `host`, migrated as `crm init` migrates one, and a client of it. */
export async function migratedDatabase(host: Pick<TestClickHouse, 'url' | 'user' | 'password'>, database: string): Promise<{ clickhouse: ClickHouseClient; config: ClickHouseAddress }> {
  const config = { CLICKHOUSE_URL: host.url, CLICKHOUSE_USER: host.user, CLICKHOUSE_PASSWORD: host.password, CLICKHOUSE_DATABASE: database };
  const admin = createClickHouse(config, { database: false });
  await migrate(admin, database).finally(() => admin.close());
  return { clickhouse: createClickHouse(config), config };
}
