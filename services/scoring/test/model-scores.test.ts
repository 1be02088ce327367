import { describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@crm/clickhouse';
import {
  clv12m,
  clv12mFromExpectedPurchases,
  createRng,
  gammaGammaExpectedValue,
  mbgnbdExpectedPurchases,
  mbgnbdExpectedPurchasesIfAlive,
  mbgnbdProbabilityAlive,
  simulateMbgnbd,
  type GammaGammaParams,
  type MbgnbdParams,
} from '@crm/models';
import { nameBasedUuid } from '@crm/events';
import { rawOrderRow } from '@crm/sample-data';
import { DEFAULT_SCORING_PARAMETERS, loadScoringParameters, runScoring } from '../src/index.js';
import { realtimeRisk } from '../src/realtime-risk.js';
import { rescoreCustomers } from '../src/run.js';
import { updateBasis } from '../src/runs.js';
import { createWriteLease } from '../src/write-lock.js';
import { useScoringEngine } from './engine.js';

const engine = useScoringEngine('crm-model-scores-');
const database = (name: string) => engine.database(name);

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T = Date.parse('2026-06-30T00:00:00Z');

const rows = async <R>(clickhouse: ClickHouseClient, query: string, query_params: Record<string, unknown> = {}) =>
  (await clickhouse.query({ query, query_params, format: 'JSONEachRow' })).json<R>();

/**
 * A seeded MBG/NBD population as raw orders ending at `end`: each simulated
 * (x, t_x, T) becomes purchases on x + 1 distinct days (first, last and x − 1
 * in between), each worth 0.5–1.5 × the customer's own spend level (spend
 * levels differ between customers, as Gamma-Gamma assumes).
 */
function population(prefix: string, customers: number, seed: number, end = T) {
  const rng = createRng(seed);
  const simulated = simulateMbgnbd({ r: 0.6, alpha: 25, a: 0.7, b: 3 }, { customers, T: { min: 60, max: 700 }, seed, wholeDays: true });
  return simulated.flatMap((c, i) => {
    const level = 15 + 150 * rng.next() ** 2;
    const first = end - c.T * DAY;
    const days = new Set<number>([0, c.t_x]);
    for (let k = 0; days.size < Math.min(c.x + 1, c.t_x + 1) && k < 10 * c.x; k++) days.add(1 + Math.floor(rng.next() * Math.max(c.t_x - 1, 1)));
    return [...days].map((d) => rawOrderRow(`${prefix}${i}`, first + d * DAY + HOUR, Math.round(level * (0.5 + rng.next()))));
  });
}

interface Profile {
  customer_id: string;
  p_alive: number | null;
  churn_probability: number | null;
  expected_purchases_90d: number | null;
  clv_12m: number | null;
  clv_alive_12m: number | null;
  value_tier: string | null;
  lifecycle_stage: string;
  as_of: string;
}
const profiles = async (clickhouse: ClickHouseClient) =>
  new Map(
    (await rows<Profile>(
      clickhouse,
      `SELECT customer_id, p_alive, churn_probability, expected_purchases_90d, clv_12m, clv_alive_12m, value_tier, lifecycle_stage,
              toString(as_of) AS as_of FROM customer_profiles FINAL`,
    )).map((p) => [p.customer_id, p]),
  );

interface StoredFit {
  as_of: string;
  model: string;
  params: Record<string, number>;
  standard_errors: Record<string, number>;
  converged: boolean;
  error: string;
}
const fits = (clickhouse: ClickHouseClient) =>
  rows<StoredFit>(clickhouse, 'SELECT toString(as_of) AS as_of, model, params, standard_errors, converged, error FROM model_fits FINAL ORDER BY as_of, model');

const runsOf = (clickhouse: ClickHouseClient) =>
  rows<{ as_of: string; customers: number; mbgnbd: string | null; gamma_gamma: string | null; baseline: boolean }>(
    clickhouse,
    `SELECT toString(as_of) AS as_of, customers, toString(mbgnbd_fit_as_of) AS mbgnbd, toString(gamma_gamma_fit_as_of) AS gamma_gamma, baseline
     FROM scoring_runs FINAL ORDER BY as_of`,
  );

const text = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

describe('stored scores equal @crm/models evaluated with the stored fits (hand-computed x, t_x, T)', () => {
  it('p_alive, expected_purchases_90d, clv_12m and clv_alive_12m of scripted customers', { timeout: 120_000 }, async () => {
    const clickhouse = await database('hand');
    const scripted = [
      // One purchase 10 days before T: x = 0, t_x = 0, T = 10.
      rawOrderRow('hand-one', T - 10 * DAY + 5 * HOUR, 35),
      // Days −200, −120 (two orders, one purchase day worth 80), −30: x = 2, t_x = 170, T = 200, m̄ = (80 + 50) / 2 = 65.
      rawOrderRow('hand-repeat', T - 200 * DAY + HOUR, 40),
      rawOrderRow('hand-repeat', T - 120 * DAY + 2 * HOUR, 60),
      rawOrderRow('hand-repeat', T - 120 * DAY + 3 * HOUR, 20),
      rawOrderRow('hand-repeat', T - 30 * DAY + HOUR, 50),
      // A cancelled order is no purchase, nor is one placed after T: days −60 and −20, x = 1, t_x = 40, T = 60, m̄ = 30.
      rawOrderRow('hand-cancel', T - 90 * DAY, 70, 'cancelled'),
      rawOrderRow('hand-cancel', T - 60 * DAY + HOUR, 25),
      rawOrderRow('hand-cancel', T - 20 * DAY + HOUR, 30),
      rawOrderRow('hand-cancel', T + HOUR, 99),
      // Bought a lot long ago, quiet for 300 days: x = 5, t_x = 100, T = 400, m̄ = 90.
      ...[400, 380, 360, 340, 320, 300].map((d) => rawOrderRow('hand-quiet', T - d * DAY + HOUR, 90)),
    ];
    const hand: Record<string, { x: number; t_x: number; T: number; mbar?: number }> = {
      'hand-one': { x: 0, t_x: 0, T: 10 },
      'hand-repeat': { x: 2, t_x: 170, T: 200, mbar: 65 },
      'hand-cancel': { x: 1, t_x: 40, T: 60, mbar: 30 },
      'hand-quiet': { x: 5, t_x: 100, T: 400, mbar: 90 },
    };
    await clickhouse.insert({ table: 'orders', values: [...population('pop', 400, 11), ...scripted], format: 'JSONEachRow' });

    const run = await runScoring(clickhouse, new Date(T));
    expect(run.fits.failures).toEqual([]);
    const stored = await fits(clickhouse);
    const mbgnbdRow = stored.find((f) => f.model === 'mbgnbd')!;
    const ggRow = stored.find((f) => f.model === 'gamma_gamma')!;
    // Converged fits with standard errors for every parameter.
    for (const [fit, names] of [[mbgnbdRow, ['r', 'alpha', 'a', 'b']], [ggRow, ['p', 'q', 'v']]] as const) {
      expect(fit).toMatchObject({ as_of: text(T), converged: true, error: '' });
      expect(Object.keys(fit.standard_errors).sort()).toEqual([...names].sort());
      for (const name of names) expect(fit.standard_errors[name]).toBeGreaterThan(0);
    }
    expect(await runsOf(clickhouse)).toEqual([{ as_of: text(T), customers: 404, mbgnbd: text(T), gamma_gamma: text(T), baseline: true }]);

    const mbgnbd = mbgnbdRow.params as unknown as MbgnbdParams;
    const gammaGamma = ggRow.params as unknown as GammaGammaParams;
    const got = await profiles(clickhouse);
    for (const [customer, summary] of Object.entries(hand)) {
      const p = got.get(customer)!;
      const pAlive = mbgnbdProbabilityAlive(mbgnbd, summary);
      const value = gammaGammaExpectedValue(gammaGamma, summary.x, summary.mbar);
      const clvAlive = clv12mFromExpectedPurchases((t) => mbgnbdExpectedPurchasesIfAlive(mbgnbd, summary, t), value, { margin: 1, annualDiscountRate: 0.1 });
      expect(p.p_alive, customer).toBeCloseTo(pAlive, 10);
      expect(p.churn_probability, customer).toBeCloseTo(1 - pAlive, 10);
      expect(p.expected_purchases_90d, customer).toBeCloseTo(mbgnbdExpectedPurchases(mbgnbd, summary, 90), 10);
      expect(p.clv_12m! / clv12m({ mbgnbd, gammaGamma }, summary), customer).toBeCloseTo(1, 10);
      expect(p.clv_alive_12m! / clvAlive, customer).toBeCloseTo(1, 10);
      // Given alive it is worth more, by exactly 1 / P(alive).
      expect(p.clv_alive_12m! * pAlive / p.clv_12m!, customer).toBeCloseTo(1, 8);
    }
    // The quiet big spender's clv has fallen with P(alive); the value at stake has not.
    expect(got.get('hand-quiet')!.p_alive!).toBeLessThan(0.5);

    // Baseline: at-risk entries are recorded (readable in at_risk_customers) but not for sending.
    const risk = await rows<{ n: string; sent: string }>(clickhouse, "SELECT count() AS n, countIf(publish) AS sent FROM segment_changes WHERE segment_type = 'risk'");
    expect(Number(risk[0]!.n)).toBeGreaterThan(0);
    expect(Number(risk[0]!.sent)).toBe(0);
    const listed = await rows<{ n: string }>(clickhouse, 'SELECT count() AS n FROM at_risk_customers');
    expect(Number(listed[0]!.n)).toBe(Number(risk[0]!.n));
    // Segment first assignments of the baseline are for sending.
    const firsts = await rows<{ unsent: string }>(clickhouse, "SELECT countIf(NOT publish) AS unsent FROM segment_changes WHERE segment_type != 'risk'");
    expect(Number(firsts[0]!.unsent)).toBe(0);
    await clickhouse.close();
  });
});

describe('fits on a cadence, only converged ones used', () => {
  it('reuses the newest fit until the interval passes or buyers grow, and skips a fit that did not converge', { timeout: 180_000 }, async () => {
    const clickhouse = await database('cadence');
    await clickhouse.insert({ table: 'orders', values: population('c', 300, 5), format: 'JSONEachRow' });
    await runScoring(clickhouse, new Date(T));
    const before = await profiles(clickhouse);

    // An hour later, nothing new: the fit is reused and no score moves.
    const reused = await runScoring(clickhouse, new Date(T + HOUR));
    expect(reused.fits).toEqual({ failures: [] });
    expect(reused.fitsAsOf).toEqual({ mbgnbd: new Date(T), gammaGamma: new Date(T) });
    expect((await fits(clickhouse)).map((f) => f.as_of)).toEqual([text(T), text(T), text(T)]);
    const after = await profiles(clickhouse);
    let compared = 0;
    for (const [id, p] of before) {
      if (p.p_alive === null) continue;
      // The same day: T_c is unchanged, so the scores are identical.
      expect(after.get(id)!.p_alive, id).toBe(p.p_alive);
      expect(after.get(id)!.clv_12m, id).toBe(p.clv_12m);
      compared++;
    }
    expect(compared).toBe(300);

    // 20 % more buyers: refit at once.
    await clickhouse.insert({ table: 'orders', values: population('g', 60, 6, T + HOUR), format: 'JSONEachRow' });
    const grown = await runScoring(clickhouse, new Date(T + 2 * HOUR));
    expect(grown.fitsAsOf.mbgnbd).toEqual(new Date(T + 2 * HOUR));

    // A newer attempt that did not converge is recorded but not used: the newest converged fit scores.
    await clickhouse.insert({
      table: 'model_fits',
      values: ['mbgnbd', 'gamma_gamma'].map((model) => ({
        as_of: ((T + 2 * DAY) / 1000).toFixed(3), model, params: {}, standard_errors: {}, log_likelihood: 0, converged: false,
        error: 'did not converge', customers: 360, groups: 0, iterations: 300, fitted_at: ((T + 2 * DAY) / 1000).toFixed(3),
      })),
      format: 'JSONEachRow',
    });
    const fallback = await runScoring(clickhouse, new Date(T + 2 * DAY + HOUR));
    expect(fallback.fits).toEqual({ failures: [] });
    expect(fallback.fitsAsOf).toEqual({ mbgnbd: new Date(T + 2 * HOUR), gammaGamma: new Date(T + 2 * HOUR) });
    expect([...(await profiles(clickhouse)).values()].filter((p) => p.p_alive === null)).toEqual([]);

    // A day after that attempt, a refit.
    const refitted = await runScoring(clickhouse, new Date(T + 3 * DAY + HOUR));
    expect(refitted.fitsAsOf.mbgnbd).toEqual(new Date(T + 3 * DAY + HOUR));
    expect((await runsOf(clickhouse)).map((r) => r.baseline)).toEqual([true, false, false, false, false]);

    // SCORING_REFIT_INTERVAL=0: every run refits.
    const always = loadScoringParameters({ SCORING_REFIT_INTERVAL: '0' });
    expect((await runScoring(clickhouse, new Date(T + 3 * DAY + 2 * HOUR), always)).fitsAsOf.mbgnbd).toEqual(new Date(T + 3 * DAY + 2 * HOUR));
    expect(loadScoringParameters({ SCORING_REFIT_INTERVAL: '12h' }).refitIntervalSeconds).toBe(43_200);
    expect(() => loadScoringParameters({ SCORING_REFIT_INTERVAL: 'daily' })).toThrow(/SCORING_REFIT_INTERVAL/);
    await clickhouse.close();
  });
});

describe('no score-less profiles', () => {
  it('an empty start-up run is no basis for updates, and a result without a model never replaces one with it', { timeout: 120_000 }, async () => {
    const clickhouse = await database('scoreless');
    const lock = createWriteLease(clickhouse, { ttlMs: 30_000, maxHoldMs: 5_000 });
    // The service starts on an empty database: a run with no buyers.
    await runScoring(clickhouse, new Date(T - DAY));
    await clickhouse.insert({ table: 'orders', values: population('s', 300, 9), format: 'JSONEachRow' });
    // Events arrive: no basis yet, so nothing is written (the next full run scores them).
    const early = await rescoreCustomers(clickhouse, ['s1', 's2'], new Date(T - HOUR), DEFAULT_SCORING_PARAMETERS, lock);
    expect(early.basisAsOf).toBeUndefined();
    expect((await profiles(clickhouse)).size).toBe(0);

    // The first full run with buyers is the baseline (the empty run does not count) and the basis.
    const run = await runScoring(clickhouse, new Date(T), DEFAULT_SCORING_PARAMETERS, undefined, lock);
    expect(run.baseline).toBe(true);
    const update = await rescoreCustomers(clickhouse, ['s1', 's2'], new Date(T + HOUR), DEFAULT_SCORING_PARAMETERS, lock);
    expect(update.basisAsOf).toEqual(new Date(T));
    const scored = await profiles(clickhouse);
    const buyers = [...scored.values()];
    expect(buyers.filter((p) => p.p_alive === null || p.clv_12m === null || p.value_tier === null)).toEqual([]);
    expect(scored.get('s1')!.as_of).toBe(text(T + HOUR));

    // Every converged fit gone, and a fresh attempt that failed: the next run has no model at all.
    await clickhouse.command({ query: 'DELETE FROM model_fits WHERE converged', clickhouse_settings: { mutations_sync: '2' } });
    await clickhouse.insert({
      table: 'model_fits',
      values: ['mbgnbd', 'gamma_gamma'].map((model) => ({
        as_of: ((T + DAY) / 1000).toFixed(3), model, params: {}, standard_errors: {}, log_likelihood: 0, converged: false, error: 'x',
        customers: 300, groups: 0, iterations: 0, fitted_at: ((T + DAY) / 1000).toFixed(3),
      })),
      format: 'JSONEachRow',
    });
    const modelless = await runScoring(clickhouse, new Date(T + DAY + HOUR), DEFAULT_SCORING_PARAMETERS, undefined, lock);
    expect(modelless.fitsAsOf).toEqual({});
    // The buyers keep the profiles computed with a model...
    const kept = await profiles(clickhouse);
    expect([...kept.values()].filter((p) => p.p_alive === null)).toEqual([]);
    expect(kept.get('s3')!.as_of).toBe(text(T));
    // ...and neither that run nor the one whose fits are gone is a basis.
    expect((await rescoreCustomers(clickhouse, ['s1'], new Date(T + DAY + 2 * HOUR), DEFAULT_SCORING_PARAMETERS, lock)).basisAsOf).toBeUndefined();
    await clickhouse.close();
  });
});

describe('reactivated ends', () => {
  it('a churned customer who comes back is reactivated for the window, then judged like anyone else', { timeout: 120_000 }, async () => {
    const clickhouse = await database('reactivation');
    await clickhouse.insert({
      table: 'orders',
      values: [
        ...population('r', 300, 21),
        ...[520, 500, 480].map((d) => rawOrderRow('back', T - d * DAY, 60)),
        // Churned by the model, not by the window: frequent buying that stopped 330 days ago.
        ...[360, 355, 350, 345, 340, 335, 330].map((d) => rawOrderRow('lapsed', T - d * DAY, 60)),
      ],
      format: 'JSONEachRow',
    });
    await runScoring(clickhouse, new Date(T));
    expect((await profiles(clickhouse)).get('back')!.lifecycle_stage).toBe('churned');
    expect((await profiles(clickhouse)).get('lapsed')!.lifecycle_stage).toBe('churned');
    // Back, and buying every ten days.
    const returned = [1, 11, 21, 31, 41].map((d) => rawOrderRow('back', T + d * DAY + HOUR, 60));
    // An incremental update sees the return at once.
    await clickhouse.insert({ table: 'orders', values: [returned[0]!, rawOrderRow('lapsed', T + DAY, 60)], format: 'JSONEachRow' });
    const update = await rescoreCustomers(clickhouse, ['back', 'lapsed'], new Date(T + DAY + 2 * HOUR), DEFAULT_SCORING_PARAMETERS, createWriteLease(clickhouse, { ttlMs: 30_000, maxHoldMs: 5_000 }));
    expect(update.basisAsOf).toEqual(new Date(T));
    expect((await profiles(clickhouse)).get('back')!.lifecycle_stage).toBe('reactivated');
    expect((await profiles(clickhouse)).get('lapsed')!.lifecycle_stage).toBe('reactivated');
    const stageAt = async (day: number) => {
      await runScoring(clickhouse, new Date(T + day * DAY + 2 * HOUR));
      return (await profiles(clickhouse)).get('back')!.lifecycle_stage;
    };
    await clickhouse.insert({ table: 'orders', values: returned.slice(1), format: 'JSONEachRow' });
    expect(await stageAt(1)).toBe('reactivated');
    expect(await stageAt(21)).toBe('reactivated');
    expect(await stageAt(30)).toBe('reactivated');
    // 31 days after the purchase that brought them back (day 1): no longer reactivated, though still buying.
    expect(await stageAt(32)).toBe('active');
    expect(await stageAt(41)).toBe('active');
    await clickhouse.close();
  });
});

describe('the real-time risk path', () => {
  const raw = { schema_version: 1, source_partition: 0, source_offset: 0 };
  let serial = 0;
  const ticket = (customer: string, id: string, at: number, status: string, category = 'complaint') => ({
    ...raw, event_id: nameBasedUuid('t', String(++serial)), occurred_at: (at / 1000).toFixed(3), ticket_id: id, customer_id: customer, status, category,
    priority: 'high', channel: 'email',
  });
  const answer = (customer: string, at: number, score: number) => ({
    ...raw, event_id: nameBasedUuid('s', String(++serial)), occurred_at: (at / 1000).toFixed(3), response_id: `r${serial}`, customer_id: customer,
    kind: 'nps', score, scale_max: 10, expectation: null, order_id: null, ticket_id: null, comment: null,
  });
  const riskRows = (clickhouse: ClickHouseClient) =>
    rows<{ customer_id: string; from: string | null; to: string; drivers: string[]; as_of: string; publish: boolean; event_id: string }>(
      clickhouse,
      `SELECT customer_id, \`from\`, \`to\`, drivers, toString(as_of) AS as_of, publish, toString(event_id) AS event_id
       FROM segment_changes WHERE segment_type = 'risk' ORDER BY customer_id, as_of`,
    );

  it('alerts at once for a complaint still open or a detractor, of a customer worth keeping; the re-score after it repeats nothing', { timeout: 120_000 }, async () => {
    const clickhouse = await database('realtime');
    // Valuable and loyal: an order worth 400 every 20 days for two years, the last 5 days ago.
    const loyal = (id: string) => Array.from({ length: 36 }, (_, k) => rawOrderRow(id, T - (5 + 20 * k) * DAY + HOUR, 400));
    await clickhouse.insert({
      table: 'orders',
      values: [...population('q', 300, 31), ...['vip', 'vip-closed', 'vip-nps', 'vip-happy'].flatMap(loyal), rawOrderRow('small', T - 30 * DAY, 5)],
      format: 'JSONEachRow',
    });
    const lock = createWriteLease(clickhouse, { ttlMs: 30_000, maxHoldMs: 5_000 });
    await runScoring(clickhouse, new Date(T), DEFAULT_SCORING_PARAMETERS, undefined, lock);
    const before = await riskRows(clickhouse);
    expect(before.filter((r) => r.customer_id.startsWith('vip') || r.customer_id === 'small')).toEqual([]);

    await clickhouse.insert({
      table: 'tickets',
      values: [
        ticket('vip', 'k1', T + HOUR, 'opened'),
        // Opened and resolved again before the path looks: no complaint is open.
        ticket('vip-closed', 'k2', T + HOUR, 'opened'),
        ticket('vip-closed', 'k2', T + 2 * HOUR, 'resolved'),
        // Not worth keeping on the real-time path (lead): the re-score judges them.
        ticket('small', 'k3', T + HOUR, 'opened'),
      ],
      format: 'JSONEachRow',
    });
    await clickhouse.insert({ table: 'surveys', values: [answer('vip-nps', T + HOUR, 3), answer('vip-happy', T + HOUR, 9)], format: 'JSONEachRow' });
    // 'nobody…': no data, and an id that the scope's parameter must carry intact (quotes, backslash, emoji).
    const customers = ['vip', 'vip-closed', 'vip-nps', 'vip-happy', 'small', "nobody 'o\\'brien' \\ é😀"];
    const judged = await realtimeRisk(clickhouse, customers, new Date(T + 3 * HOUR), DEFAULT_SCORING_PARAMETERS, lock, updateBasis);
    expect(judged.basisAsOf).toEqual(new Date(T));
    const alerts = (await riskRows(clickhouse)).filter((r) => customers.includes(r.customer_id));
    expect(alerts.map(({ customer_id, from, to, drivers, as_of, publish }) => ({ customer_id, from, to, drivers, as_of, publish }))).toEqual([
      { customer_id: 'vip', from: null, to: 'at_risk', drivers: ['open_complaint'], as_of: text(T + 3 * HOUR), publish: true },
      { customer_id: 'vip-nps', from: null, to: 'at_risk', drivers: ['detractor'], as_of: text(T + 3 * HOUR), publish: true },
    ]);
    for (const a of alerts) expect(a.event_id).toBe(nameBasedUuid(a.customer_id, 'risk', '', 'at_risk', a.as_of));
    // Committed by the write lease like every outbox write: the publisher sends them.
    const [committed] = await rows<{ n: string }>(clickhouse, "SELECT count() AS n FROM outbox_commits WHERE changed_at = (SELECT max(changed_at) FROM segment_changes WHERE segment_type = 'risk')");
    expect(Number(committed!.n)).toBe(1);

    // Judged again, and then re-scored: nothing repeats.
    await realtimeRisk(clickhouse, customers, new Date(T + 4 * HOUR), DEFAULT_SCORING_PARAMETERS, lock, updateBasis);
    await rescoreCustomers(clickhouse, customers, new Date(T + 5 * HOUR), DEFAULT_SCORING_PARAMETERS, lock);
    expect((await riskRows(clickhouse)).filter((r) => customers.includes(r.customer_id))).toHaveLength(2);
    const profile = (await profiles(clickhouse)).get('vip')!;
    expect(profile.as_of).toBe(text(T + 5 * HOUR));

    // Without a basis (no full run with a fit yet) nothing is judged.
    const empty = await database('realtime_empty');
    await empty.insert({ table: 'tickets', values: [ticket('vip', 'k9', T, 'opened')], format: 'JSONEachRow' });
    expect((await realtimeRisk(empty, ['vip'], new Date(T + HOUR), DEFAULT_SCORING_PARAMETERS, createWriteLease(empty, { ttlMs: 30_000, maxHoldMs: 5_000 }), updateBasis)).basisAsOf).toBeUndefined();
    expect(await riskRows(empty)).toEqual([]);
    await empty.close();
    await clickhouse.close();
  });
});
