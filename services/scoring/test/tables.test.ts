import { describe, expect, it } from 'vitest';
import { SCORING_TABLES } from '@crm/clickhouse';
import { useScoringEngine } from './engine.js';

const engine = useScoringEngine('crm-tables-');

describe('the one definition of each written table', () => {
  it('equals system.columns after the migrations: names, types and order', async () => {
    const clickhouse = await engine.database('tables');
    const result = await clickhouse.query({
      query: `SELECT table, name, type FROM system.columns
              WHERE database = currentDatabase() AND table IN {tables:Array(String)}
              ORDER BY table, position`,
      query_params: { tables: SCORING_TABLES.map((t) => t.name) },
      format: 'JSONEachRow',
    });
    const rows = await result.json<{ table: string; name: string; type: string }>();
    for (const table of SCORING_TABLES) {
      const actual = rows.filter((r) => r.table === table.name).map((r) => [r.name, r.type]);
      expect(actual, table.name).toEqual(Object.entries(table.columns));
    }
    await clickhouse.close();
  });
});
