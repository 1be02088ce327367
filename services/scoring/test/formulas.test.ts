import { describe, expect, it } from 'vitest';
import { gammaGammaExpectedValue, type GammaGammaParams } from '@crm/models';
import { gammaGammaExpectedValueSql, gammaGammaSqlParameters } from '../src/scores.js';
import { useScoringEngine } from './engine.js';

const engine = useScoringEngine('crm-formulas-');

/**
 * Formulas that must exist in SQL as well as in @crm/models (the SQL runs
 * once per customer inside ClickHouse): both forms evaluated on the same
 * inputs, the SQL on the real engine.
 */
describe('SQL and TypeScript forms of a formula agree', () => {
  it('Gamma-Gamma E[M | x, m̄], including x = 0 (the population mean)', async () => {
    const clickhouse = await engine.database('formulas');
    const fits: GammaGammaParams[] = [
      { p: 6.25, q: 3.74, v: 15.44 },
      { p: 0.8, q: 1.05, v: 300 },
      { p: 42, q: 120, v: 9000 },
    ];
    const customers = [
      { x: 0, mbar: 0 },
      { x: 1, mbar: 12.5 },
      { x: 2, mbar: 0.01 },
      { x: 7, mbar: 233.3333 },
      { x: 150, mbar: 41.2 },
    ];
    for (const fit of fits) {
      const result = await clickhouse.query({
        query: `SELECT x, mbar, ${gammaGammaExpectedValueSql('x', 'mbar')} AS value
                FROM (SELECT tupleElement(c, 1) AS x, tupleElement(c, 2) AS mbar FROM (SELECT arrayJoin(arrayZip({xs:Array(UInt32)}, {mbars:Array(Float64)})) AS c))
                ORDER BY x`,
        query_params: { ...gammaGammaSqlParameters(fit), xs: customers.map((c) => c.x), mbars: customers.map((c) => c.mbar) },
        format: 'JSONEachRow',
      });
      const rows = await result.json<{ x: number; mbar: number; value: number }>();
      expect(rows).toHaveLength(customers.length);
      for (const row of rows) {
        const expected = gammaGammaExpectedValue(fit, row.x, row.x === 0 ? undefined : row.mbar);
        expect(Math.abs(row.value - expected) / expected, `${JSON.stringify(fit)} x=${row.x} m̄=${row.mbar}`).toBeLessThan(1e-9);
      }
    }
    await clickhouse.close();
  });

  it('gives no value without a fit whose mean is finite (q ≤ 1)', () => {
    expect(gammaGammaSqlParameters({ p: 1, q: 0.9, v: 5 }).gg_ok).toBe(false);
    expect(gammaGammaSqlParameters(undefined).gg_ok).toBe(false);
    expect(gammaGammaSqlParameters({ p: 1, q: 1.5, v: 5 }).gg_ok).toBe(true);
  });
});
