import { describe, expect, it } from 'vitest';
import { gammaGammaExpectedValue, mbgnbdProbabilityAlive, type GammaGammaParams, type MbgnbdParams } from '@crm/models';
import { gammaGammaExpectedValueSql, gammaGammaSqlParameters, mbgnbdProbabilityAliveSql, mbgnbdSqlParameters } from '../src/scores.js';
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

  it('MBG/NBD P(alive | x, t_x, T), from one-time buyers to odds that would overflow', async () => {
    const clickhouse = await engine.database('formulas_alive');
    const fits: MbgnbdParams[] = [
      { r: 0.55, alpha: 5.8, a: 0.8, b: 6 },
      { r: 0.24, alpha: 4.4, a: 0.79, b: 2.43 },
      { r: 3.1, alpha: 120, a: 12, b: 0.4 },
    ];
    // (x, t_x, T): just bought, long quiet, one-time buyers, and x so large that the odds
    // of having dropped out are e^hundreds (both forms must give ~0, not NaN).
    const customers = [
      [0, 0, 0], [0, 0, 30], [0, 0, 1095], [1, 10, 10], [1, 5, 700], [3, 200, 400], [3, 20, 400],
      [40, 900, 1000], [400, 10, 3000], [900, 1, 36500],
    ] as const;
    for (const fit of fits) {
      const result = await clickhouse.query({
        query: `SELECT x, t_x, T, ${mbgnbdProbabilityAliveSql('x', 't_x', 'T')} AS p
                FROM (SELECT c.1 AS x, c.2 AS t_x, c.3 AS T FROM (SELECT arrayJoin(arrayZip({xs:Array(UInt32)}, {txs:Array(UInt32)}, {Ts:Array(UInt32)})) AS c))`,
        query_params: { ...mbgnbdSqlParameters(fit), xs: customers.map((c) => c[0]), txs: customers.map((c) => c[1]), Ts: customers.map((c) => c[2]) },
        format: 'JSONEachRow',
      });
      const rows = await result.json<{ x: number; t_x: number; T: number; p: number }>();
      expect(rows).toHaveLength(customers.length);
      for (const row of rows) {
        const expected = mbgnbdProbabilityAlive(fit, { x: row.x, t_x: row.t_x, T: row.T });
        const where = `${JSON.stringify(fit)} (${row.x}, ${row.t_x}, ${row.T})`;
        expect(Number.isFinite(row.p), where).toBe(true);
        if (expected < 1e-300) expect(row.p, where).toBeLessThan(1e-290);
        else expect(Math.abs(row.p - expected) / expected, where).toBeLessThan(1e-12);
      }
    }
    expect(mbgnbdSqlParameters(undefined).mbg_ok).toBe(false);
    await clickhouse.close();
  });
});

