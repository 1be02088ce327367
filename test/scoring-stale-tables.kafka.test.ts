import { describe, expect, it } from 'vitest';
import { createClickHouse, migrateOnStart } from '@crm/clickhouse';
import { createLogger } from '@crm/runtime';
import { loadScoringConfig } from '@crm/scoring';
import { useTestInfrastructure } from './support/harness.js';
import { spawnService } from './support/processes.js';

const infra = useTestInfrastructure();

describe('scoring start-up', () => {
  it('drops the intermediate tables an interrupted run left behind, and only those', { timeout: 180_000 }, async () => {
    const env = infra.env({ SCORING_HEALTH_PORT: '0', SCORING_INCREMENTAL: 'false', SCORING_STALE_TABLE_MINUTES: '0' });
    const config = loadScoringConfig(env);
    await migrateOnStart(config, createLogger('test', 'warn'));
    const clickhouse = createClickHouse(config);
    const tables = async () =>
      (await (await clickhouse.query({ query: "SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE 'scoring%' ORDER BY name", format: 'JSONEachRow' })).json<{ name: string }>()).map((r) => r.name);
    try {
      // What a SIGKILLed run leaves: its per-run tables (see runContext in services/scoring/src/run-context.ts).
      await clickhouse.command({ query: 'CREATE TABLE scoring_stats_0123456789ab (x UInt8) ENGINE = MergeTree ORDER BY x' });
      await clickhouse.command({ query: 'CREATE TABLE scoring_scope_ba9876543210 (customer_id String) ENGINE = Memory' });
      expect(await tables()).toEqual(expect.arrayContaining(['scoring_runs', 'scoring_scope_ba9876543210', 'scoring_stats_0123456789ab']));
      const scoring = spawnService('services/scoring/src/main.ts', env);
      try {
        await scoring.waitForLog((l) => l.msg === 'scoring running', 120_000);
        const names = await tables();
        expect(names).toContain('scoring_runs');
        // The service's own first run may have tables of its own by now; the left-over ones are gone.
        expect(names.filter((n) => n === 'scoring_stats_0123456789ab' || n === 'scoring_scope_ba9876543210')).toEqual([]);
      } finally {
        const code = await scoring.kill('SIGTERM');
        expect(code, scoring.lines.slice(-4).map((l) => JSON.stringify(l).slice(0, 400)).join('\n')).toBe(0);
      }
    } finally {
      await clickhouse.close();
    }
  });
});
