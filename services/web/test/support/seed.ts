import { randomUUID } from 'node:crypto';
import { refreshDashboardAggregates, type ClickHouseClient, type ClickHouseAddress } from '@crm/clickhouse';
import { rawOrderRow } from '@crm/sample-data';
import { migratedDatabase, type TestClickHouse } from '../../../../test/support/clickhouse.js';

/**
 * A small, known population in a fresh database: enough of every table the
 * dashboard reads for each page and API answer to have something to show.
 */
export const SEEDED = {
  /** 30 customers c00…c29; tiers from their revenue: c00–c01 platinum, c02–c05 gold, c06–c11 iron, the rest lead. */
  customers: 30,
  atRisk: ['c03', 'c01'],
  churned: ['c02', 'c20'],
} as const;

const id = (i: number) => `c${String(i).padStart(2, '0')}`;
const tierOf = (i: number) => (i < 2 ? 'platinum' : i < 6 ? 'gold' : i < 12 ? 'iron' : 'lead');
const segmentOf = (i: number) => (i < 6 ? 'champions' : i < 15 ? 'loyal_customers' : 'hibernating');
const ts = (ms: number) => (ms / 1000).toFixed(3);

export async function seededDatabase(host: TestClickHouse, database: string): Promise<{ clickhouse: ClickHouseClient; config: ClickHouseAddress }> {
  const { clickhouse, config } = await migratedDatabase(host, database);
  const now = Date.now();
  const asOf = now - 3600_000;
  const day = 86_400_000;
  const profiles = [];
  const history = [];
  for (let i = 0; i < SEEDED.customers; i++) {
    const churned = (SEEDED.churned as readonly string[]).includes(id(i));
    const revenue = 3000 - i * 100;
    const scores = {
      recency_days: i * 3, frequency: 10 - Math.floor(i / 3), monetary: revenue / 4,
      r_score: 5 - Math.floor(i / 6), f_score: 5 - (i % 5), m_score: 5 - Math.floor(i / 6),
      rfm_segment: segmentOf(i), lifecycle_stage: churned ? 'churned' : i % 7 === 0 ? 'new' : 'active', value_tier: tierOf(i),
      p_alive: churned ? 0.05 : 0.9 - i / 100, churn_probability: churned ? 0.95 : 0.1 + i / 100, expected_purchases_90d: 1, clv_12m: 1500 - i * 50, clv_alive_12m: 1500,
    };
    profiles.push({
      customer_id: id(i), first_seen_at: ts(now - 400 * day), last_seen_at: ts(now - i * day), first_purchase_at: ts(now - 400 * day), last_purchase_at: ts(now - (i + 1) * day),
      purchases_total: 4, revenue_total: revenue, avg_order_value: revenue / 4, clicks_30d: 3, sessions_30d: 2, open_tickets: i === 3 ? 1 : 0, complaints_90d: i === 3 ? 1 : 0,
      open_complaints: i === 3 ? 1 : 0, csat: null, last_nps: null, ...scores, as_of: ts(asOf), updated_at: ts(asOf),
    });
    for (const back of [60, 30, 0]) history.push({ as_of: ts(asOf - back * day), customer_id: id(i), ...scores, p_alive: Math.min(1, scores.p_alive + back / 100), purchases_total: 4, revenue_total: revenue, updated_at: ts(asOf) });
  }
  await clickhouse.insert({ table: 'customer_profiles', values: profiles, format: 'JSONEachRow' });
  await clickhouse.insert({ table: 'customer_scores_history', values: history, format: 'JSONEachRow' });
  const risk = (customer: string, drivers: string[], clv: number) => ({
    event_id: randomUUID(), customer_id: customer, segment_type: 'risk', from: null, to: 'at_risk', as_of: ts(asOf), changed_at: ts(asOf),
    r_score: 3, f_score: 3, m_score: 5, rfm_segment: 'champions', lifecycle_stage: 'active', value_tier: customer === 'c01' ? 'platinum' : 'gold',
    churn_probability: 0.6, clv_12m: clv, drivers, publish: true,
  });
  await clickhouse.insert({
    table: 'segment_changes',
    values: [risk('c03', ['open_complaint', 'recency'], 1350), risk('c01', ['recency'], 1450),
      { ...risk('c02', ['recency'], 1400), to: 'not_at_risk' }],
    format: 'JSONEachRow',
  });
  await clickhouse.insert({ table: 'orders', values: [rawOrderRow('c03', now - 10 * day, 120), rawOrderRow('c03', now - 40 * day, 80), rawOrderRow('c01', now - 5 * day, 500)], format: 'JSONEachRow' });
  await clickhouse.insert({
    table: 'model_fits',
    values: [{ as_of: ts(asOf), model: 'mbgnbd', params: { r: 0.24, alpha: 4.41 }, standard_errors: { r: 0.012, alpha: 0.31 }, log_likelihood: -9582.4, converged: true, error: '', customers: 30, groups: 30, iterations: 42, fitted_at: ts(asOf) }],
    format: 'JSONEachRow',
  });
  const raw = { schema_version: 1, source_partition: 0, source_offset: 0 };
  await clickhouse.insert({
    table: 'tickets',
    values: [{ ...raw, event_id: randomUUID(), occurred_at: ts(now - 3 * day), ticket_id: 't-1', customer_id: 'c03', status: 'open', category: 'complaint', priority: 'high', channel: 'email' }],
    format: 'JSONEachRow',
  });
  // CSAT answers in each of the last two months: 4 of 5 satisfied (score ≥ 4 of 5), then 1 of 2.
  const survey = (customer: string, at: number, score: number) => ({
    ...raw, event_id: randomUUID(), occurred_at: ts(at), response_id: randomUUID(), customer_id: customer, kind: 'csat', score, scale_max: 5, expectation: 4, order_id: null, ticket_id: null, comment: null,
  });
  await clickhouse.insert({
    table: 'surveys',
    values: [...[5, 4, 4, 5, 2].map((score, i) => survey(id(i), now - 35 * day, score)), survey('c03', now - 2 * day, 2), survey('c04', now - 2 * day, 5)],
    format: 'JSONEachRow',
  });
  await clickhouse.insert({
    table: 'scoring_runs',
    values: [{ as_of: ts(asOf), r_cuts: [], f_cuts: [], m_cuts: [], tier_cuts: [], keep_cuts: [], customers: 30, mbgnbd_fit_as_of: ts(asOf), gamma_gamma_fit_as_of: null, baseline: false, finished_at: ts(asOf) }],
    format: 'JSONEachRow',
  });
  // What the full run that wrote these would have refreshed last.
  await refreshDashboardAggregates(clickhouse);
  return { clickhouse, config };
}
