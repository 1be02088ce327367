import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClickHouseHost, type ClickHouseHost } from '@crm/clickhouse-host';
import { createClickHouse, migrate, type ClickHouseClient } from '@crm/clickhouse';
import { nameBasedUuid } from '@crm/events';
import { DEFAULT_SCORING_PARAMETERS, loadScoringParameters } from '../src/parameters.js';
import { outboxChangesSql, riskParameters } from '../src/outbox.js';

let host: ClickHouseHost;
let dir: string;
let clickhouse: ClickHouseClient;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crm-risk-'));
  host = await startClickHouseHost({ dataDir: dir, port: 0 });
  const config = { CLICKHOUSE_URL: host.url, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_DATABASE: 'risk' };
  const admin = createClickHouse(config, { database: false });
  await migrate(admin, 'risk');
  await admin.close();
  clickhouse = createClickHouse(config);
});
afterAll(async () => {
  await clickhouse?.close();
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Tier = 'lead' | 'iron' | 'gold' | 'platinum' | null;
interface Scored {
  customer_id: string;
  value_tier: Tier;
  /** The worth-keeping tier (by clv_alive_12m); defaults to value_tier. */
  keep_tier?: Tier;
  churn_probability: number | null;
  open_complaints?: number;
  last_nps?: number | null;
  csat?: number | null;
  clicks_30d?: number;
  last_click_at?: string | null;
}

const DAY = 86_400_000;
const T = Date.parse('2026-06-30T12:00:00Z');
let step = 0;

/** Decides risk for these scored customers as of `asOf` (the rows a scoring run or an incremental update would write); returns the new outbox rows. */
async function decide(asOf: number, scored: Scored[], parameters = DEFAULT_SCORING_PARAMETERS, baseline = false) {
  const rows = `rows_${++step}`;
  await clickhouse.command({
    query: `CREATE TABLE ${rows} (customer_id String, as_of DateTime64(3, 'UTC'), churn_probability Nullable(Float64), value_tier Nullable(String),
              keep_tier Nullable(String), p_alive Nullable(Float64), purchases_total UInt64,
              open_complaints UInt64, last_nps Nullable(UInt8), csat Nullable(Float64), clicks_30d UInt64, last_click_at Nullable(DateTime64(3, 'UTC')),
              r_score Nullable(UInt8), f_score Nullable(UInt8), m_score Nullable(UInt8), rfm_segment String, lifecycle_stage String, clv_12m Nullable(Float64))
            ENGINE = Memory`,
  });
  await clickhouse.insert({
    table: rows,
    values: scored.map((s) => ({
      open_complaints: 0, last_nps: null, csat: null, clicks_30d: 3, last_click_at: null, keep_tier: s.value_tier,
      p_alive: s.churn_probability === null ? null : 1 - s.churn_probability, purchases_total: s.value_tier === null ? 0 : 3,
      ...s,
      as_of: asOf / 1000, r_score: 3, f_score: 3, m_score: 3, rfm_segment: 'need_attention', lifecycle_stage: 'active', clv_12m: 100,
    })),
    format: 'JSONEachRow',
  });
  const changedAt = (T + step * 1000) / 1000;
  await clickhouse.command({
    query: outboxChangesSql(rows),
    query_params: { as_of: (asOf / 1000).toFixed(3), changed_at: changedAt.toFixed(3), ...riskParameters(parameters.risk, baseline) },
  });
  const result = await clickhouse.query({
    query: `SELECT toString(event_id) AS event_id, customer_id, \`from\`, \`to\`, drivers, toString(as_of) AS as_of, publish
            FROM segment_changes WHERE segment_type = 'risk' AND changed_at = {changed_at:DateTime64(3, 'UTC')} ORDER BY customer_id`,
    query_params: { changed_at: changedAt.toFixed(3) },
    format: 'JSONEachRow',
  });
  return result.json<{ event_id: string; customer_id: string; from: string | null; to: string; drivers: string[]; as_of: string; publish: boolean }>();
}

describe('customer-at-risk rules', () => {
  it('enters on the scoring or the real-time path by tier, lists the drivers, and repeats only after recovery below the lower threshold', async () => {
    const first = await decide(T, [
      { customer_id: 'iron-churning', value_tier: 'iron', churn_probability: 0.6 },
      { customer_id: 'lead-churning', value_tier: 'lead', churn_probability: 0.95 },
      { customer_id: 'gold-complaint', value_tier: 'gold', churn_probability: 0.1, open_complaints: 1 },
      { customer_id: 'iron-complaint', value_tier: 'iron', churn_probability: 0.1, open_complaints: 2 },
      { customer_id: 'platinum-detractor', value_tier: 'platinum', churn_probability: 0.2, last_nps: 6, csat: 40, clicks_30d: 0, last_click_at: '2026-05-01 00:00:00.000' },
      { customer_id: 'platinum-passive', value_tier: 'platinum', churn_probability: 0.2, last_nps: 7 },
      { customer_id: 'prospect', value_tier: null, churn_probability: null, open_complaints: 1 },
    ]);
    expect(first.map((c) => [c.customer_id, c.from, c.to, c.drivers])).toEqual([
      ['gold-complaint', null, 'at_risk', ['open_complaint']],
      ['iron-churning', null, 'at_risk', ['recency_overdue']],
      ['platinum-detractor', null, 'at_risk', ['detractor', 'low_csat', 'engagement_drop']],
    ]);
    for (const c of first) expect(c.event_id).toBe(nameBasedUuid(c.customer_id, 'risk', '', c.to, c.as_of));

    // Still at risk, or between the thresholds: nothing repeats.
    expect(
      await decide(T + DAY, [
        { customer_id: 'iron-churning', value_tier: 'iron', churn_probability: 0.45 },
        { customer_id: 'gold-complaint', value_tier: 'gold', churn_probability: 0.1, open_complaints: 2 },
        { customer_id: 'platinum-detractor', value_tier: 'platinum', churn_probability: 0.1, last_nps: 2 },
      ]),
    ).toEqual([]);

    // A result older than what was recorded changes nothing.
    expect(await decide(T - DAY, [{ customer_id: 'iron-churning', value_tier: 'iron', churn_probability: 0.1 }])).toEqual([]);

    // Recovery needs churn below the lower threshold, no open complaint and no detractor answer.
    const recovered = await decide(T + 2 * DAY, [
      { customer_id: 'iron-churning', value_tier: 'iron', churn_probability: 0.39 },
      { customer_id: 'gold-complaint', value_tier: 'gold', churn_probability: 0.1, open_complaints: 0 },
      { customer_id: 'platinum-detractor', value_tier: 'platinum', churn_probability: 0.1, last_nps: 9, open_complaints: 1 },
    ]);
    expect(recovered.map((c) => [c.customer_id, c.from, c.to, c.drivers])).toEqual([
      ['gold-complaint', 'at_risk', 'recovered', []],
      ['iron-churning', 'at_risk', 'recovered', []],
    ]);

    // After recovering, crossing again is news again.
    const again = await decide(T + 3 * DAY, [{ customer_id: 'iron-churning', value_tier: 'iron', churn_probability: 0.5 }]);
    expect(again.map((c) => [c.customer_id, c.from, c.to, c.drivers])).toEqual([['iron-churning', 'recovered', 'at_risk', ['recency_overdue']]]);
  });

  it('takes its thresholds and minimum tiers from configuration', async () => {
    const strict = loadScoringParameters({ RISK_CHURN_THRESHOLD: '0.9', RISK_RECOVERY_THRESHOLD: '0.5', RISK_MIN_TIER: 'gold', RISK_REALTIME_MIN_TIER: 'platinum' });
    const decided = await decide(
      T,
      [
        { customer_id: 'cfg-iron-0.95', value_tier: 'iron', churn_probability: 0.95 },
        { customer_id: 'cfg-gold-0.85', value_tier: 'gold', churn_probability: 0.85 },
        { customer_id: 'cfg-gold-0.9', value_tier: 'gold', churn_probability: 0.9 },
        { customer_id: 'cfg-gold-complaint', value_tier: 'gold', churn_probability: 0.1, open_complaints: 1 },
        { customer_id: 'cfg-platinum-complaint', value_tier: 'platinum', churn_probability: 0.1, open_complaints: 1 },
      ],
      strict,
    );
    expect(decided.map((c) => c.customer_id)).toEqual(['cfg-gold-0.9', 'cfg-platinum-complaint']);
    expect(() => loadScoringParameters({ RISK_CHURN_THRESHOLD: '0.4', RISK_RECOVERY_THRESHOLD: '0.4' })).toThrow(/RISK_RECOVERY_THRESHOLD/);
    expect(() => loadScoringParameters({ RISK_MIN_TIER: 'diamond' })).toThrow(/RISK_MIN_TIER/);
  });

  it('gates on the worth-keeping tier (clv given alive), not on the churn-discounted value tier', async () => {
    const decided = await decide(T, [
      // Valuable and going quiet: clv_12m has fallen to lead, clv_alive_12m is still gold.
      { customer_id: 'keep-quiet-valuable', value_tier: 'lead', keep_tier: 'gold', churn_probability: 0.7 },
      { customer_id: 'keep-cheap', value_tier: 'iron', keep_tier: 'lead', churn_probability: 0.7 },
      { customer_id: 'keep-complaint', value_tier: 'lead', keep_tier: 'platinum', churn_probability: 0.3, open_complaints: 1 },
    ]);
    expect(decided.map((c) => [c.customer_id, c.to])).toEqual([
      ['keep-complaint', 'at_risk'],
      ['keep-quiet-valuable', 'at_risk'],
    ]);
  });

  it('records a baseline run\'s at-risk entries unpublished, unless RISK_ALERT_ON_BASELINE=true', async () => {
    const quiet = await decide(T, [{ customer_id: 'base-a', value_tier: 'gold', churn_probability: 0.9 }], DEFAULT_SCORING_PARAMETERS, true);
    expect(quiet.map((c) => [c.customer_id, c.to, c.publish])).toEqual([['base-a', 'at_risk', false]]);
    const loud = await decide(T, [{ customer_id: 'base-b', value_tier: 'gold', churn_probability: 0.9 }], loadScoringParameters({ RISK_ALERT_ON_BASELINE: 'true' }), true);
    expect(loud.map((c) => [c.customer_id, c.to, c.publish])).toEqual([['base-b', 'at_risk', true]]);
    // After the baseline, entries are sent; a recovery of a baseline entry is recorded and sent.
    const later = await decide(T + DAY, [
      { customer_id: 'base-a', value_tier: 'gold', churn_probability: 0.1 },
      { customer_id: 'base-c', value_tier: 'gold', churn_probability: 0.9 },
    ]);
    expect(later.map((c) => [c.customer_id, c.to, c.publish])).toEqual([
      ['base-a', 'recovered', true],
      ['base-c', 'at_risk', true],
    ]);
    // The at-risk list shows entries whether or not they were sent.
    const list = await (await clickhouse.query({
      query: "SELECT customer_id, alerted FROM at_risk_customers WHERE customer_id LIKE 'base-%' ORDER BY customer_id",
      format: 'JSONEachRow',
    })).json<{ customer_id: string; alerted: boolean }>();
    expect(list).toEqual([{ customer_id: 'base-b', alerted: true }, { customer_id: 'base-c', alerted: true }]);
  });
});
