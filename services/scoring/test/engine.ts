import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startClickHouseHost, type ClickHouseHost } from '@crm/clickhouse-host';
import { createClickHouse, migrate, type ClickHouseClient } from '@crm/clickhouse';

/** One embedded ClickHouse per test file; `database(name)` gives a migrated database of its own. */
export function useScoringEngine(prefix: string) {
  let host: ClickHouseHost;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    host = await startClickHouseHost({ dataDir: dir, port: 0 });
  });
  afterAll(async () => {
    await host?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get host() {
      return host;
    },
    async database(name: string): Promise<ClickHouseClient> {
      const config = { CLICKHOUSE_URL: host.url, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_DATABASE: name };
      const admin = createClickHouse(config, { database: false });
      await migrate(admin, name);
      await admin.close();
      return createClickHouse(config);
    },
  };
}
