import { describe, expect, it } from 'vitest';
import { loadMigrations, splitStatements } from '../src/migrate.js';

describe('migrations', () => {
  it('have distinct increasing numbers and every statement is idempotent', () => {
    const migrations = loadMigrations();
    // Branches worked on side by side take numbers from ranges of their own, so the numbers may leave gaps.
    const versions = migrations.map((m) => m.version);
    expect(versions[0]).toBe(1);
    expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
    for (const statement of migrations.flatMap((m) => m.statements)) {
      // A repeated outbox commit mark equals the first, and materialising an index again rebuilds
      // the same index, so those statements are idempotent too.
      expect(statement).toMatch(
        /^(CREATE (TABLE|VIEW|MATERIALIZED VIEW|DATABASE) IF NOT EXISTS|CREATE OR REPLACE VIEW|ALTER TABLE \S+ (ADD|MODIFY) COLUMN IF|ALTER TABLE \S+ ADD INDEX IF NOT EXISTS|ALTER TABLE \S+ MATERIALIZE INDEX|INSERT INTO \{database\}\.outbox_commits )/,
      );
    }
  });

  it('split on statement ends, ignoring comment lines', () => {
    expect(splitStatements('-- a; comment\nCREATE TABLE a (x UInt8);\n\nCREATE VIEW b AS SELECT 1;\n')).toEqual([
      'CREATE TABLE a (x UInt8)',
      'CREATE VIEW b AS SELECT 1',
    ]);
  });
});

describe('migrate against a ClickHouse that is not up', () => {
  it('fails with a retriable MIGRATION_FAILED, so start-up waits for it instead of exiting', async () => {
    const { createServer } = await import('node:net');
    const { createClickHouse } = await import('../src/client.js');
    const { migrate } = await import('../src/migrate.js');
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const client = createClickHouse({ CLICKHOUSE_URL: `http://127.0.0.1:${port}`, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_DATABASE: 'crm' }, { database: false });
    await expect(migrate(client, 'crm')).rejects.toMatchObject({ code: 'MIGRATION_FAILED', retriable: true });
    await client.close();
  });
});
