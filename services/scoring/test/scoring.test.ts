import { describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouseClient } from '@crm/clickhouse';
import { runScoring, LIFECYCLE_STAGE_SQL, valueTierSql, rfmSegment } from '../src/index.js';
import { LIFECYCLE_STAGE_SQL as LIFECYCLE, valueTierSql as tierSql } from '../src/profile-rows.js';
import { nameBasedUuid } from '@crm/events';
import { rawOrderRow } from '@crm/sample-data';
import { useScoringEngine } from './engine.js';

const engine = useScoringEngine('crm-scoring-');
const database = (name: string) => engine.database(name);

const DAY = 86_400_000;
const T = Date.parse('2026-06-30T00:00:00Z');

const order = rawOrderRow;

async function profiles(clickhouse: ClickHouseClient) {
  const r = await clickhouse.query({
    query: `SELECT customer_id, recency_days, frequency, toString(monetary) AS monetary, r_score, f_score, m_score, rfm_segment, lifecycle_stage, purchases_total
            FROM customer_profiles FINAL ORDER BY customer_id`,
    format: 'JSONEachRow',
  });
  return new Map((await r.json<Record<string, unknown> & { customer_id: string }>()).map((row) => [row.customer_id, row]));
}

describe('RFM scores and segments (hand-computed)', () => {
  it('scores a 5×5 grid of customers into every cell, with ties at the cut points', async () => {
    const clickhouse = await database('rfm_grid');
    // R band → days since last purchase; F band → purchases in the window (10.00 each).
    const recency: Record<number, number> = { 5: 2, 4: 20, 3: 60, 2: 120, 1: 250 };
    const rows = [];
    const cells: { id: string; r: number; f: number }[] = [];
    for (let r = 1; r <= 5; r++) {
      for (let f = 1; f <= 5; f++) cells.push({ id: `g${r}${f}`, r, f });
    }
    // A 26th buyer in cell 11 shapes the distributions: 26 values put the exact quantiles
    // (sorted positions 5, 10, 15, 20) at recency 20/60/120/250 and frequency 1/2/3/4.
    cells.push({ id: 'g11b', r: 1, f: 1 });
    for (const cell of cells) {
      const last = T - recency[cell.r]! * DAY + 10 * 3_600_000 - DAY;
      for (let k = 0; k < cell.f; k++) rows.push(order(cell.id, last - k * 3 * DAY + DAY, 10));
    }
    rows.push(order('lost', T - 400 * DAY, 50));
    rows.push(order('prospect', T - 10 * DAY, 20, 'cancelled'));
    await clickhouse.insert({ table: 'orders', values: rows, format: 'JSONEachRow' });

    await runScoring(clickhouse, new Date(T));
    const got = await profiles(clickhouse);
    for (const cell of cells) {
      expect(got.get(cell.id), cell.id).toMatchObject({
        recency_days: recency[cell.r],
        frequency: cell.f,
        monetary: String(10 * cell.f),
        r_score: cell.r,
        f_score: cell.f,
        m_score: cell.f,
        rfm_segment: rfmSegment(cell.r, cell.f),
      });
    }
    const segments = new Set([...got.values()].map((p) => p.rfm_segment));
    expect(segments.size).toBe(12); // the ten grid segments, lost and prospect
    expect(got.get('lost')).toMatchObject({ recency_days: 400, frequency: 0, r_score: null, rfm_segment: 'lost', lifecycle_stage: 'churned' });
    expect(got.get('prospect')).toMatchObject({ purchases_total: 0, r_score: null, rfm_segment: 'prospect', lifecycle_stage: 'prospect' });
    await clickhouse.close();
  });

  it('counts the window as (T − W, T] and sees only what was known at T', async () => {
    const clickhouse = await database('edges');
    await clickhouse.insert({
      table: 'orders',
      values: [
        order('edge', T - 365 * DAY, 1), // exactly T − W: outside the window
        order('edge', T - 365 * DAY + 1, 2), // just inside
        order('at_t', T, 3), // exactly T: inside
        order('at_t', T + 1, 4), // after T: not seen
        order('late_cancel', T - 5 * DAY, 5), // delivered before T...
        order('same_day', T - 3 * DAY, 6),
        order('same_day', T - 3 * DAY + 3_600_000, 7), // two purchases, one purchase day
      ],
      format: 'JSONEachRow',
    });
    // ...and cancelled after T: as of T it is still a purchase.
    const late = await clickhouse.query({ query: "SELECT order_id FROM orders WHERE customer_id = 'late_cancel'", format: 'JSONEachRow' });
    const { order_id } = (await late.json<{ order_id: string }>())[0]!;
    await clickhouse.insert({
      table: 'orders',
      values: [{ ...order('late_cancel', T - 5 * DAY, 5, 'cancelled', T + DAY), order_id }],
      format: 'JSONEachRow',
    });

    await runScoring(clickhouse, new Date(T));
    const got = await profiles(clickhouse);
    expect(got.get('edge')).toMatchObject({ purchases_total: 2, frequency: 1, monetary: '2', recency_days: 365 });
    expect(got.get('at_t')).toMatchObject({ purchases_total: 1, frequency: 1, monetary: '3', recency_days: 0 });
    expect(got.get('late_cancel')).toMatchObject({ purchases_total: 1, frequency: 1, monetary: '5' });
    expect(got.get('same_day')).toMatchObject({ purchases_total: 2, frequency: 2, monetary: '13', recency_days: 3 });

    // A day later the cancellation is known.
    await runScoring(clickhouse, new Date(T + 2 * DAY));
    expect((await profiles(clickhouse)).get('late_cancel')).toMatchObject({ purchases_total: 0, rfm_segment: 'prospect' });
    // History keeps both runs.
    const history = await clickhouse.query({
      query: "SELECT count() AS n FROM customer_scores_history FINAL WHERE customer_id = 'late_cancel'",
      format: 'JSONEachRow',
    });
    expect((await history.json<{ n: number }>())[0]!.n).toBe(2);
    await clickhouse.close();
  });
});

describe('segment changes (the outbox)', () => {
  type Change = { event_id: string; customer_id: string; segment_type: string; from: string | null; to: string; as_of: string };
  const changes = async (clickhouse: ClickHouseClient) =>
    (await clickhouse.query({
      query: 'SELECT toString(event_id) AS event_id, customer_id, segment_type, `from`, `to`, toString(as_of) AS as_of FROM segment_changes FINAL ORDER BY as_of, customer_id, segment_type',
      format: 'JSONEachRow',
    })).json<Change>();

  it('records first assignments, nothing for an unchanged re-run, and exactly the changes of a later run, with name-based ids', async () => {
    const clickhouse = await database('changes');
    await clickhouse.insert({
      table: 'orders',
      values: [order('a', T - 3 * DAY, 10), order('a', T - 40 * DAY, 10), order('b', T - 400 * DAY, 10), order('c', T - 5 * DAY, 10, 'cancelled')],
      format: 'JSONEachRow',
    });
    await runScoring(clickhouse, new Date(T));
    const first = await changes(clickhouse);
    // First assignments: from null, to = the profile's current value, for every customer.
    const profiled = await profiles(clickhouse);
    expect(first.filter((c) => c.segment_type !== 'tier').map((c) => `${c.customer_id} ${c.segment_type} ${c.from} ${c.to}`)).toEqual(
      ['a', 'b', 'c'].flatMap((id) => [
        `${id} lifecycle null ${profiled.get(id)!.lifecycle_stage}`,
        `${id} rfm null ${profiled.get(id)!.rfm_segment}`,
      ]),
    );
    expect(profiled.get('b')).toMatchObject({ rfm_segment: 'lost', lifecycle_stage: 'churned' });
    expect(profiled.get('c')).toMatchObject({ rfm_segment: 'prospect', lifecycle_stage: 'prospect' });
    for (const c of first) expect(c.event_id).toBe(nameBasedUuid(c.customer_id, c.segment_type, c.from ?? '', c.to, c.as_of));

    // The same run again: nothing new.
    await runScoring(clickhouse, new Date(T));
    expect(await changes(clickhouse)).toHaveLength(first.length);

    // b buys again after more than a year: lost → a grid segment, churned → reactivated.
    await clickhouse.insert({ table: 'orders', values: [order('b', T + DAY, 10)], format: 'JSONEachRow' });
    await runScoring(clickhouse, new Date(T + 2 * DAY));
    const later = (await changes(clickhouse)).slice(first.length);
    const b = later.filter((c) => c.customer_id === 'b');
    expect(b.find((c) => c.segment_type === 'lifecycle')).toMatchObject({ from: 'churned', to: 'reactivated' });
    expect(b.find((c) => c.segment_type === 'rfm')).toMatchObject({ from: 'lost' });
    expect(later.filter((c) => c.customer_id === 'c')).toEqual([]);
    await clickhouse.close();
  });
});

describe('lifecycle stages and value tiers (the SQL, evaluated by the engine)', () => {
  const defaults = { new_days: 30, reactivation_days: 30, window_days: 365, churn_threshold: 0.8, at_risk_threshold: 0.5, stage_hysteresis: 0.1 };
  type Row = { purchases_total: number; days_since_first: number; recency_days: number; days_since_reactivation: number | null; previous_stage: string | null; churn_probability: number | null; frequency: number };
  const base: Row = { purchases_total: 3, days_since_first: 200, recency_days: 40, days_since_reactivation: null, previous_stage: 'active', churn_probability: 0.1, frequency: 3 };

  async function stage(row: Partial<Row>): Promise<string> {
    const clickhouse = createClickHouse({ CLICKHOUSE_URL: engine.host.url, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_DATABASE: 'default' });
    const r = { ...base, ...row };
    const result = await clickhouse.query({
      query: `SELECT ${LIFECYCLE} AS stage FROM (SELECT {pt:UInt64} AS purchases_total, {dsf:UInt32} AS days_since_first, {rd:UInt32} AS recency_days,
                {dsr:Nullable(Int64)} AS days_since_reactivation, {prev:Nullable(String)} AS previous_stage, {cp:Nullable(Float64)} AS churn_probability, {f:UInt32} AS frequency)`,
      query_params: { ...defaults, pt: r.purchases_total, dsf: r.days_since_first, rd: r.recency_days, dsr: r.days_since_reactivation, prev: r.previous_stage, cp: r.churn_probability, f: r.frequency },
      format: 'JSONEachRow',
    });
    const s = (await result.json<{ stage: string }>())[0]!.stage;
    await clickhouse.close();
    return s;
  }

  it.each([
    [{ purchases_total: 0 }, 'prospect'],
    [{ days_since_first: 29, recency_days: 29 }, 'new'],
    [{ days_since_first: 30, recency_days: 30 }, 'active'],
    [{ recency_days: 0, days_since_reactivation: 29 }, 'reactivated'],
    // The window ends: a reactivated customer who keeps buying is judged like anyone else.
    [{ recency_days: 0, days_since_reactivation: 30, previous_stage: 'reactivated' }, 'active'],
    [{ recency_days: 0, days_since_reactivation: 30, previous_stage: 'reactivated', churn_probability: 0.6 }, 'at_risk'],
    [{ churn_probability: 0.8 }, 'churned'],
    [{ churn_probability: 0.7999 }, 'at_risk'],
    [{ frequency: 0, churn_probability: 0.1 }, 'churned'],
    [{ churn_probability: 0.5 }, 'at_risk'],
    [{ churn_probability: 0.4999 }, 'active'],
    [{ churn_probability: null }, 'active'],
    // Hysteresis: leaving churned or at_risk needs the margin (0.1) below the threshold.
    [{ churn_probability: 0.7001, previous_stage: 'churned' }, 'churned'],
    [{ churn_probability: 0.6999, previous_stage: 'churned' }, 'at_risk'],
    [{ churn_probability: 0.4001, previous_stage: 'at_risk' }, 'at_risk'],
    [{ churn_probability: 0.3999, previous_stage: 'at_risk' }, 'active'],
    [{ churn_probability: 0.4001, previous_stage: 'churned' }, 'at_risk'],
    [{ churn_probability: 0.7999, previous_stage: 'at_risk' }, 'at_risk'],
    [{ churn_probability: 0.4001, previous_stage: 'active' }, 'active'],
  ])('%j → %s', async (row, expected) => {
    expect(await stage(row)).toBe(expected);
  });

  it.each([
    [10, 'lead'],
    [10.0001, 'iron'],
    [20, 'iron'],
    [20.5, 'gold'],
    [30, 'gold'],
    [30.01, 'platinum'],
    [null, null],
  ])('clv %s → tier %s (cuts 10 / 20 / 30)', async (clv, tier) => {
    const clickhouse = createClickHouse({ CLICKHOUSE_URL: engine.host.url, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_DATABASE: 'default' });
    const result = await clickhouse.query({
      query: `SELECT ${tierSql('clv', '[10., 20., 30.]')} AS tier FROM (SELECT 1 AS purchases_total, {clv:Nullable(Float64)} AS clv)`,
      query_params: { clv },
      format: 'JSONEachRow',
    });
    expect((await result.json<{ tier: string | null }>())[0]!.tier).toBe(tier);
    await clickhouse.close();
  });

  it('exports the same SQL it uses', () => {
    expect(LIFECYCLE_STAGE_SQL).toBe(LIFECYCLE);
    expect(valueTierSql('a', 'b')).toBe(tierSql('a', 'b'));
  });
});
