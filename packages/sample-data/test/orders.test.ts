import { describe, expect, it } from 'vitest';
import { decodeEvent } from '@crm/events';
import { createRng, fitMbgnbd, mbgnbdProbabilityAlive } from '@crm/models';
import { DEFAULT_PURCHASE_PROCESS, generateOrderEvents, purchaseTimes } from '../src/index.js';
import { buyerSummaries, groupsOf } from './purchase-summaries.js';

const END = new Date('2026-12-01T21:00:00Z');
const DAY = 86_400_000;

describe('generateOrderEvents: a seeded shop', () => {
  it('gives the same events for the same seed and different ones for another', () => {
    const a = generateOrderEvents({ seed: 42, customers: 200, end: END });
    expect(generateOrderEvents({ seed: 42, customers: 200, end: END })).toEqual(a);
    expect(generateOrderEvents({ seed: 43, customers: 200, end: END })).not.toEqual(a);
  });

  it('emits valid events inside the period, each order in its time order with the usual fates', () => {
    const events = generateOrderEvents({ seed: 9, customers: 500, end: END, days: 730, duplicateShare: 0 });
    for (const e of events.slice(0, 500)) expect(decodeEvent('orders', Buffer.from(JSON.stringify(e)), 'application/json').ok).toBe(true);
    const byOrder = new Map<string, typeof events>();
    for (const e of events) byOrder.set(e.order_id, [...(byOrder.get(e.order_id) ?? []), e]);
    for (const order of byOrder.values()) {
      expect(order[0]!.status).toBe('placed');
      expect(order.map((e) => e.occurred_at)).toEqual(order.map((e) => e.occurred_at).sort());
      const placed = Date.parse(order[0]!.placed_at);
      expect(placed).toBeLessThanOrEqual(END.getTime());
      expect(placed).toBeGreaterThan(END.getTime() - 730 * DAY);
    }
    const last = [...byOrder.values()].map((o) => o.at(-1)!);
    const share = (f: (e: (typeof last)[number]) => boolean) => last.filter(f).length / last.length;
    expect(share((e) => e.status === 'cancelled')).toBeCloseTo(0.08, 1);
    expect(share((e) => e.status === 'refunded')).toBeCloseTo(0.08, 1);
    // Log-normal spend levels: a long right tail of order values.
    const totals = last.map((e) => e.total).sort((x, y) => x - y);
    expect(totals.at(-totals.length / 20)! / totals[totals.length / 2]!).toBeGreaterThan(2);
  });

  it('keeps customers buying up to the end: MBG/NBD fitted to the sample finds a real share of them alive', () => {
    for (const seed of [42, 1, 7]) {
      const events = generateOrderEvents({ seed, customers: 500, end: END });
      const { buyers } = buyerSummaries(events, END);
      const fit = fitMbgnbd(groupsOf(buyers));
      const alive = buyers.filter((b) => mbgnbdProbabilityAlive(fit.params, b) >= 0.5).length / buyers.length;
      expect(alive, `seed ${seed}`).toBeGreaterThan(0.4);
      expect(alive, `seed ${seed}`).toBeLessThan(0.8);
      // Purchases do not thin out towards the end: the last quarter of the period has its share of them.
      const recent = buyers.filter((b) => b.recencyDays < 30).length / buyers.length;
      expect(recent, `seed ${seed}`).toBeGreaterThan(0.1);
      // Some customers come back after more than a window's silence (the reactivated stage).
      expect(buyers.some((b) => b.recencyDays < 30 && b.lastGapDays > 365), `seed ${seed}`).toBe(true);
    }
  });
});

describe('purchaseTimes: MBG/NBD’s process cut at the end', () => {
  it('has exponential gaps at the customer’s rate and a geometric number of purchases', () => {
    // Every customer alike: λ ≈ 0.1/day, p ≈ 0.2 (gamma and beta with huge shapes are nearly constant).
    const process = { r: 1e6, alpha: 1e7, a: 2e5, b: 8e5 };
    const rng = createRng(3);
    // Acquired so long before the end that the cut almost never matters.
    const runs = Array.from({ length: 4000 }, () => purchaseTimes(rng, process, END.getTime(), 100_000));
    const counts = runs.map((t) => t.length);
    // Dropout after every purchase, the first included: E[purchases] = 1/p.
    expect(counts.reduce((s, n) => s + n, 0) / counts.length).toBeCloseTo(5, 0);
    const gaps = runs.flatMap((t) => t.slice(1).map((at, i) => (at - t[i]!) / DAY));
    expect(gaps.reduce((s, g) => s + g, 0) / gaps.length).toBeCloseTo(10, 0);
    for (const t of runs) expect(t).toEqual([...t].sort((x, y) => x - y));
  });

  it('never places a purchase after the end', () => {
    const rng = createRng(5);
    const end = END.getTime();
    for (let i = 0; i < 2000; i++) for (const at of purchaseTimes(rng, DEFAULT_PURCHASE_PROCESS, end, 730)) expect(at).toBeLessThanOrEqual(end);
  });
});
