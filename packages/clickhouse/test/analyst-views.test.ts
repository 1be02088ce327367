import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawOrderRow } from '@crm/sample-data';
import { startTestClickHouse, type TestClickHouse } from '../../../test/support/clickhouse.js';
import { createClickHouse, migrate, type ClickHouseClient } from '../src/index.js';

// The analysts' views on the real engine, against numbers computed by hand (docs/METRICS.md "Views").
let host: TestClickHouse;
beforeAll(async () => {
  host = await startTestClickHouse();
});
afterAll(async () => {
  await host?.stop();
});

async function database(name: string): Promise<ClickHouseClient> {
  const config = { CLICKHOUSE_URL: host.url, CLICKHOUSE_USER: host.user, CLICKHOUSE_PASSWORD: host.password, CLICKHOUSE_DATABASE: name };
  const admin = createClickHouse(config, { database: false });
  await migrate(admin, name);
  await admin.close();
  return createClickHouse(config);
}

async function rows<T>(clickhouse: ClickHouseClient, query: string): Promise<T[]> {
  return (await clickhouse.query({ query, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } })).json<T>();
}

const at = (iso: string) => Date.parse(iso);
const seconds = (ms: number) => (ms / 1000).toFixed(3);

describe('churn_retention_monthly', () => {
  it('carries each customer’s stage to the months they were not scored in, counts churns of those active at the start, and lists complete months only', async () => {
    const clickhouse = await database('views_churn');
    const history: [string, string, string][] = [
      // A: active, a churned scare in February that is over by the month's end, churned in March.
      ['A', '2026-01-15', 'active'], ['A', '2026-02-05', 'churned'], ['A', '2026-02-20', 'active'], ['A', '2026-03-15', 'churned'], ['A', '2026-04-15', 'churned'],
      // B: new in January, churned in February, never scored again.
      ['B', '2026-01-15', 'new'], ['B', '2026-02-15', 'churned'],
      // C: scored in January and April only: active throughout February and March, churned in April.
      ['C', '2026-01-15', 'active'], ['C', '2026-04-15', 'churned'],
      // D: arrives in February.
      ['D', '2026-02-15', 'new'], ['D', '2026-03-15', 'active'], ['D', '2026-04-15', 'active'],
      // E: churned, back (reactivated), active, churned again.
      ['E', '2026-01-15', 'churned'], ['E', '2026-02-15', 'reactivated'], ['E', '2026-03-15', 'active'], ['E', '2026-04-15', 'churned'],
    ];
    const now = Date.now();
    const values = history.map(([customer_id, day, lifecycle_stage]) => ({ customer_id, as_of: seconds(at(`${day}T08:00:00Z`)), lifecycle_stage }));
    // The current month, still running: everyone churned so far; it is not listed.
    for (const customer_id of 'ABCDE') values.push({ customer_id, as_of: seconds(now - 1000), lifecycle_stage: 'churned' });
    await clickhouse.insert({ table: 'customer_scores_history', values, format: 'JSONEachRow' });

    // By hand: February starts with A, B, C active (E churned), B churns → 1/3. March starts with
    // A, C, D, E (B churned), A churns → 1/4. April starts with C, D, E, C and E churn → 2/3.
    expect(await rows(clickhouse, 'SELECT toString(month) AS month, active_at_start, churned, churn_rate_pct, retention_rate_pct FROM churn_retention_monthly')).toEqual([
      { month: '2026-01-01', active_at_start: 0, churned: 0, churn_rate_pct: null, retention_rate_pct: null },
      { month: '2026-02-01', active_at_start: 3, churned: 1, churn_rate_pct: 33.33, retention_rate_pct: 66.67 },
      { month: '2026-03-01', active_at_start: 4, churned: 1, churn_rate_pct: 25, retention_rate_pct: 75 },
      { month: '2026-04-01', active_at_start: 3, churned: 2, churn_rate_pct: 66.67, retention_rate_pct: 33.33 },
    ]);
    await clickhouse.close();
  });
});

describe('cohort_retention', () => {
  it('has a cell for every month from the cohort’s to the newest purchase, 0 % where nobody bought', async () => {
    const clickhouse = await database('views_cohorts');
    const orders = [
      rawOrderRow('X', at('2026-01-10T10:00:00Z'), 20), rawOrderRow('X', at('2026-03-05T10:00:00Z'), 20),
      rawOrderRow('Y', at('2026-01-20T10:00:00Z'), 20),
      // Two purchases in one month are one purchasing customer.
      rawOrderRow('Z', at('2026-02-02T10:00:00Z'), 20), rawOrderRow('Z', at('2026-02-20T10:00:00Z'), 20), rawOrderRow('Z', at('2026-04-01T10:00:00Z'), 20),
      // A cancelled order is no purchase: W's cohort is April.
      rawOrderRow('W', at('2026-03-01T10:00:00Z'), 20, 'cancelled'), rawOrderRow('W', at('2026-04-10T10:00:00Z'), 20),
    ];
    await clickhouse.insert({ table: 'orders', values: orders, format: 'JSONEachRow' });
    const cell = (cohort: string, m: number, purchasing: number, size: number, pct: number) => ({
      cohort_month: cohort, months_since_first: m, purchasing_customers: purchasing, cohort_size: size, retention_pct: pct,
    });
    expect(await rows(clickhouse, 'SELECT toString(cohort_month) AS cohort_month, months_since_first, purchasing_customers, cohort_size, retention_pct FROM cohort_retention')).toEqual([
      cell('2026-01-01', 0, 2, 2, 100), cell('2026-01-01', 1, 0, 2, 0), cell('2026-01-01', 2, 1, 2, 50), cell('2026-01-01', 3, 0, 2, 0),
      cell('2026-02-01', 0, 1, 1, 100), cell('2026-02-01', 1, 0, 1, 0), cell('2026-02-01', 2, 1, 1, 100),
      cell('2026-04-01', 0, 1, 1, 100),
    ]);
    await clickhouse.close();
  });
});

describe('satisfaction_monthly', () => {
  it('reports CSI per survey kind, since their scales differ', async () => {
    const clickhouse = await database('views_satisfaction');
    const answer = (day: string, kind: string, score: number, scale_max: number, expectation: number | null) => ({
      event_id: randomUUID(), occurred_at: seconds(at(`${day}T12:00:00Z`)), schema_version: 1, response_id: randomUUID(), customer_id: 'S',
      kind, score, scale_max, expectation, source_partition: 0, source_offset: 0,
    });
    await clickhouse.insert({
      table: 'surveys',
      values: [
        // March. CSAT: top-two box 2 of 3; CSI 5/4 and 6/6 → 1.125.
        answer('2026-03-02', 'csat', 5, 5, 4), answer('2026-03-03', 'csat', 6, 7, 6), answer('2026-03-04', 'csat', 3, 5, null),
        // NPS: one promoter, one detractor, one passive → 0; CSI 10/8 and 3/6 → 0.875.
        answer('2026-03-05', 'nps', 10, 10, 8), answer('2026-03-06', 'nps', 3, 10, 6), answer('2026-03-07', 'nps', 7, 10, null),
        // CES: average 4; CSI 2/4 → 0.5.
        answer('2026-03-08', 'ces', 2, 7, 4), answer('2026-03-09', 'ces', 6, 7, null),
        // April: one promoter, nothing else.
        answer('2026-04-02', 'nps', 9, 10, null),
      ],
      format: 'JSONEachRow',
    });
    expect(await rows(clickhouse, 'SELECT toString(month) AS month, * EXCEPT month FROM satisfaction_monthly')).toEqual([
      {
        month: '2026-03-01', csat_responses: 3, csat_satisfied_pct: 66.67, nps_responses: 3, nps: 0, ces_responses: 2, ces_avg: 4,
        csat_csi: 1.125, nps_csi: 0.875, ces_csi: 0.5,
      },
      {
        month: '2026-04-01', csat_responses: 0, csat_satisfied_pct: null, nps_responses: 1, nps: 100, ces_responses: 0, ces_avg: null,
        csat_csi: null, nps_csi: null, ces_csi: null,
      },
    ]);
    await clickhouse.close();
  });
});

describe('order_states_as_of', () => {
  it('breaks a tie of occurred_at by event_id as text, which is not the order of the UUIDs themselves', async () => {
    const clickhouse = await database('views_order_ties');
    // Pairs whose text order and whose order as UUIDs (halves compared as integers) disagree, and random pairs.
    const pairs: [string, string][] = [
      ['00000000-0000-0001-0000-000000000000', '00000000-0000-0000-8000-000000000000'],
      ['80000000-0000-0000-0000-000000000001', '7fffffff-ffff-ffff-ffff-ffffffffffff'],
      ['00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-000000000010'],
      ...Array.from({ length: 200 }, () => [randomUUID(), randomUUID()] as [string, string]),
    ];
    const placed = at('2026-03-01T10:00:00Z');
    const values = pairs.flatMap(([a, b], i) => [
      { ...rawOrderRow('tie', placed, 10, 'paid'), order_id: `o${i}`, event_id: a },
      { ...rawOrderRow('tie', placed, 10, 'cancelled'), order_id: `o${i}`, event_id: b },
    ]);
    await clickhouse.insert({ table: 'orders', values, format: 'JSONEachRow' });
    const states = await rows<{ order_id: string; status: string }>(
      clickhouse,
      "SELECT order_id, status FROM order_states_as_of(as_of = toDateTime64('2026-04-01 00:00:00', 3, 'UTC'))",
    );
    const byOrder = new Map(states.map((s) => [s.order_id, s.status]));
    expect(byOrder.size).toBe(pairs.length);
    pairs.forEach(([a, b], i) => expect(byOrder.get(`o${i}`), `${a} vs ${b}`).toBe(a > b ? 'paid' : 'cancelled'));
    await clickhouse.close();
  });
});
