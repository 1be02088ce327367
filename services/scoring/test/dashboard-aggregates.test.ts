import { describe, expect, it } from 'vitest';
import { newestSnapshot, refreshDashboardAggregates, type ClickHouseClient, COHORT_RETENTION_RUNS, CHURN_RETENTION_RUNS, REVENUE_CONCENTRATION_RUNS, SATISFACTION_RUNS } from '@crm/clickhouse';
import { orderRow, surveyRow } from '@crm/ingest';
import { generateCustomerEvents } from '@crm/sample-data';
import { runScoring } from '../src/index.js';
import { useScoringEngine } from './engine.js';

// The dashboard's aggregates, written by full runs, against the same numbers computed directly
// from the tables (the views, and the 80/20 share as the dashboard computed it before, with a
// window over every buyer), on the demo's sample (crm demo: seed 42, 500 customers) scored
// monthly over a quarter, so churn months and cohorts are many.
const engine = useScoringEngine('crm-aggregates-');
const DAY = 86_400_000;

async function rows(clickhouse: ClickHouseClient, query: string): Promise<Record<string, unknown>[]> {
  return (await clickhouse.query({ query, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } })).json();
}

const DIRECT_TOP20 = `SELECT if(sum(r) = 0, NULL, round(100 * sumIf(r, rn <= ceil(n * 0.2)) / sum(r), 2)) AS top20_share_pct
  FROM (SELECT toFloat64(revenue_total) AS r, row_number() OVER (ORDER BY revenue_total DESC) AS rn, count() OVER () AS n
        FROM customer_profiles FINAL WHERE purchases_total > 0)`;

describe('dashboard aggregates', () => {
  it('equal the direct computation after each full run on the demo sample', async () => {
    const clickhouse = await engine.database('aggregates');
    const end = Date.now();
    // The demo's orders, and surveys of the same customers (all four streams' sample), as ingest writes them.
    const sample = generateCustomerEvents({ seed: 42, customers: 500, end: new Date(end), idPrefix: 'demo42' });
    const source = { partition: 0, offset: '0' };
    await clickhouse.insert({ table: 'orders', values: sample.orders.map((e) => orderRow(e, 1, source)), format: 'JSONEachRow' });
    await clickhouse.insert({ table: 'surveys', values: sample.surveys.map((e) => surveyRow(e, source)), format: 'JSONEachRow' });

    for (const back of [95, 65, 35, 0]) {
      await runScoring(clickhouse, new Date(end - back * DAY));
      const cohorts = await rows(clickhouse, `SELECT * EXCEPT computed_at FROM ${newestSnapshot(COHORT_RETENTION_RUNS)} ORDER BY cohort_month, months_since_first`);
      expect(cohorts).toEqual(await rows(clickhouse, 'SELECT * FROM cohort_retention ORDER BY cohort_month, months_since_first'));
      expect(cohorts.length).toBeGreaterThan(100);
      const churn = await rows(clickhouse, `SELECT * EXCEPT computed_at FROM ${newestSnapshot(CHURN_RETENTION_RUNS)} ORDER BY month`);
      expect(churn).toEqual(await rows(clickhouse, 'SELECT * FROM churn_retention_monthly ORDER BY month'));
      const satisfaction = await rows(clickhouse, `SELECT * EXCEPT computed_at FROM ${newestSnapshot(SATISFACTION_RUNS)} ORDER BY month`);
      expect(satisfaction.length).toBeGreaterThan(6);
      expect(satisfaction).toEqual(await rows(clickhouse, 'SELECT * FROM satisfaction_monthly ORDER BY month'));
      const [share] = await rows(clickhouse, `SELECT top20_share_pct FROM ${newestSnapshot(REVENUE_CONCENTRATION_RUNS)}`);
      expect(share).toEqual((await rows(clickhouse, DIRECT_TOP20))[0]);
      expect(Number(share?.top20_share_pct)).toBeGreaterThan(20);
    }
    // Three months of runs: two complete months with an active population at their start.
    const churn = await rows(clickhouse, `SELECT churn_rate_pct FROM ${newestSnapshot(CHURN_RETENTION_RUNS)} WHERE active_at_start > 0`);
    expect(churn.length).toBeGreaterThanOrEqual(2);
    // One snapshot per run is kept (within the hour), the newest read.
    const [kept] = await rows(clickhouse, `SELECT uniqExact(computed_at) AS n FROM ${COHORT_RETENTION_RUNS.name}`);
    expect(kept?.n).toBe(4);
    await clickhouse.close();
  });

  it('keeps no snapshot superseded for more than an hour', async () => {
    const clickhouse = await engine.database('aggregates_old');
    await clickhouse.insert({
      table: REVENUE_CONCENTRATION_RUNS.name,
      values: [{ computed_at: ((Date.now() - 2 * 3_600_000) / 1000).toFixed(3), buyers: 1, revenue_total: 1, top20_share_pct: 100 }],
      format: 'JSONEachRow',
    });
    const computedAt = await refreshDashboardAggregates(clickhouse);
    expect(await rows(clickhouse, `SELECT toString(computed_at) AS t, buyers, top20_share_pct FROM ${REVENUE_CONCENTRATION_RUNS.name}`)).toEqual([
      { t: computedAt, buyers: 0, top20_share_pct: null },
    ]);
    await clickhouse.close();
  });
});
