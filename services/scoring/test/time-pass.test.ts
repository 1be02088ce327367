import { describe, expect, it } from 'vitest';
import { columnNames, CUSTOMER_PROFILES, type ClickHouseClient } from '@crm/clickhouse';
import { generateOrderEvents, rawOrderRow } from '@crm/sample-data';
import { DEFAULT_SCORING_PARAMETERS, runScoring } from '../src/index.js';
import { rescoreCustomers } from '../src/run.js';
import { dueCustomers, scheduledWork } from '../src/time-pass.js';
import { createWriteLease } from '../src/write-lock.js';
import { useScoringEngine } from './engine.js';

const engine = useScoringEngine('crm-time-pass-');

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T = Date.parse('2026-06-30T00:00:00Z');
const W = DEFAULT_SCORING_PARAMETERS.windowDays;
const seconds = (ms: number) => (ms / 1000).toFixed(3);

const rows = async <R>(clickhouse: ClickHouseClient, query: string) => (await clickhouse.query({ query, format: 'JSONEachRow' })).json<R>();

/** Every profile column but the two that say when it was written. */
const COMPARED = columnNames(CUSTOMER_PROFILES).filter((c) => c !== 'as_of' && c !== 'updated_at');
const profiles = async (clickhouse: ClickHouseClient) =>
  new Map((await rows<Record<string, unknown>>(clickhouse, `SELECT ${COMPARED.join(', ')} FROM customer_profiles FINAL`)).map((p) => [p.customer_id as string, p]));
/** The columns read off a full run's population cut points. */
const CUT_COLUMNS: readonly string[] = ['r_score', 'f_score', 'm_score', 'rfm_segment', 'value_tier'];

describe('the schedule', () => {
  it('runs in full with no run yet, on a new UTC day and after the full-run interval; otherwise passes over time', () => {
    const newest = T + 10 * HOUR;
    expect(scheduledWork(new Date(T + 11 * HOUR), 0, 86_400)).toBe('full');
    expect(scheduledWork(new Date(T + 11 * HOUR), newest, 86_400)).toBe('time');
    expect(scheduledWork(new Date(T + DAY + 60_000), newest, 86_400)).toBe('full');
    expect(scheduledWork(new Date(T + 11 * HOUR), newest, 3600)).toBe('full');
    expect(scheduledWork(new Date(T + 10 * HOUR + 59_000), newest, 60)).toBe('time');
    expect(scheduledWork(new Date(T + 10 * HOUR + 1), newest, 0)).toBe('full');
  });
});

describe('re-scoring for the passage of time', () => {
  it('re-scores only the customers time changed, and then every profile equals a full run at the same moment', { timeout: 180_000 }, async () => {
    const clickhouse = await engine.database('time_pass');
    const later = T + 4 * HOUR;
    const population = generateOrderEvents({ seed: 77, customers: 200, end: new Date(T - DAY), days: 700, idPrefix: 'pop' });
    const customers = [...new Set(population.map((e) => e.customer_id))];
    const clicker = customers[5]!;
    await clickhouse.insert({
      table: 'orders',
      values: population.map((e) => ({ ...rawOrderRow(e.customer_id, Date.parse(e.placed_at), e.total, e.status, Date.parse(e.occurred_at)), event_id: e.event_id, order_id: e.order_id })),
      format: 'JSONEachRow',
    });
    await clickhouse.insert({
      table: 'orders',
      values: [
        // A purchase that leaves the window (T − W, T] between T and the later instant (the customer keeps one inside it).
        rawOrderRow('edge', T - W * DAY + 2 * HOUR, 500),
        rawOrderRow('edge', T - 400 * DAY, 80),
        rawOrderRow('edge', T - 20 * DAY, 90),
        // Placed and ingested before T, but stamped at T + 1 h: due only then.
        { ...rawOrderRow('future', T - 100 * DAY, 60), ingested_at: seconds(T - 100 * DAY) },
        { ...rawOrderRow('future', T + HOUR, 70), ingested_at: seconds(T - HOUR) },
      ],
      format: 'JSONEachRow',
    });
    const lock = createWriteLease(clickhouse, { ttlMs: 30_000, maxHoldMs: 5_000 });
    await runScoring(clickhouse, new Date(T), DEFAULT_SCORING_PARAMETERS, undefined, lock);
    // A click after T by an anonymous id linked to a known customer (the incremental consumer does not follow clicks).
    await clickhouse.insert({ table: 'identity_links', values: [{ anonymous_id: 'anon-1', customer_id: clicker, linked_at: seconds(T - 10 * DAY), event_id: crypto.randomUUID() }], format: 'JSONEachRow' });
    await clickhouse.insert({
      table: 'clicks',
      values: [{ event_id: crypto.randomUUID(), occurred_at: seconds(T + HOUR), schema_version: 1, anonymous_id: 'anon-1', customer_id: null, session_id: 's1', type: 'page_view', source_partition: 0, source_offset: 0, ingested_at: seconds(T + HOUR) }],
      format: 'JSONEachRow',
    });

    // What the interval changed, worked out here from the rows themselves: the window edge, the due event, the click.
    const leaving = new Set(population.filter((e) => Date.parse(e.placed_at) > T - W * DAY && Date.parse(e.placed_at) <= later - W * DAY).map((e) => e.customer_id));
    const expected = [...new Set(['edge', 'future', clicker, ...leaving])].sort();
    const due = (await dueCustomers(clickhouse, { since: new Date(T), until: new Date(later) }, W, true)).sort();
    expect(due).toEqual(expected);
    expect(due.length).toBeLessThan(20);

    const before = await profiles(clickhouse);
    await rescoreCustomers(clickhouse, due, new Date(later), DEFAULT_SCORING_PARAMETERS, lock);
    const passed = await profiles(clickhouse);
    expect(passed.get('edge')).not.toEqual(before.get('edge'));
    expect(passed.get('future')!.purchases_total).toBe(Number(before.get('future')!.purchases_total) + 1);
    expect(passed.get(clicker)!.clicks_30d).toBe(Number(before.get(clicker)!.clicks_30d) + 1);

    const differing = (a: Map<string, Record<string, unknown>>, b: Map<string, Record<string, unknown>>, columns: readonly string[]) =>
      [...new Set([...a.keys(), ...b.keys()])].filter((c) => columns.some((k) => JSON.stringify(a.get(c)?.[k]) !== JSON.stringify(b.get(c)?.[k])));

    // Every customer re-scored at the same moment against the same basis: nobody else had changed.
    await rescoreCustomers(clickhouse, [...before.keys()], new Date(later), DEFAULT_SCORING_PARAMETERS, lock);
    expect(differing(await profiles(clickhouse), passed, COMPARED)).toEqual([]);

    // A full run at the same moment gives the same statistics, signals, scores and stages. Its cut
    // points are its own (updates keep their basis's until the next full run), so the columns read
    // off them — RFM scores and segment, value tier — are compared only through the scores they cut.
    await runScoring(clickhouse, new Date(later), DEFAULT_SCORING_PARAMETERS, undefined, lock);
    const full = await profiles(clickhouse);
    expect(full.size).toBe(customers.length + 2);
    expect(differing(full, passed, COMPARED.filter((c) => !CUT_COLUMNS.includes(c)))).toEqual([]);
    await lock.close();
    await clickhouse.close();
  });
});
