import { describe, expect, it } from 'vitest';
import {
  bgnbdExpectedPurchases,
  bgnbdExpectedPurchasesNewCustomer,
  bgnbdLogLikelihood,
  bgnbdProbabilityAlive,
  expectedPurchasesWhileAlive,
  fitBgnbd,
  fitMbgnbd,
  groupCustomers,
  mbgnbdExpectedPurchases,
  mbgnbdExpectedPurchasesNewCustomer,
  mbgnbdLogLikelihood,
  mbgnbdProbabilityAlive,
  ModelError,
  createRng,
  sampleBeta,
  sampleGamma,
  simulateBgnbd,
  simulateMbgnbd,
  type CustomerGroup,
  type CustomerSummary,
  type TransactionModelName,
  type TransactionParams,
} from '../src/index.js';
import { bruteForce } from './brute-force.js';

const models = {
  bgnbd: {
    logLikelihood: bgnbdLogLikelihood,
    pAlive: bgnbdProbabilityAlive,
    expected: bgnbdExpectedPurchases,
    fit: fitBgnbd,
    simulate: simulateBgnbd,
  },
  mbgnbd: {
    logLikelihood: mbgnbdLogLikelihood,
    pAlive: mbgnbdProbabilityAlive,
    expected: mbgnbdExpectedPurchases,
    fit: fitMbgnbd,
    simulate: simulateMbgnbd,
  },
} as const;

const parameterSets: Record<string, TransactionParams> = {
  // the published CDNOW fit, weeks
  cdnowWeeks: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
  // the same population in days (α × 7)
  cdnowDays: { r: 0.243, alpha: 30.898, a: 0.793, b: 2.426 },
  // a > 1: finite expected lifetime purchases
  aAboveOne: { r: 1.3, alpha: 12, a: 2.5, b: 6 },
  // a = 1 + 1e-9: the closed form's removable singularity at a = 1
  aNearOne: { r: 0.5, alpha: 20, a: 1 + 1e-9, b: 3 },
  // a small α: t/(α + T + t) comes close to 1 (z ≈ 0.9986 at T = 0, t = 360), where 2F1 uses the 1 − z connection formula
  fastBuyers: { r: 0.8, alpha: 0.5, a: 1.6, b: 1.2 },
};

const grid: CustomerSummary[] = [
  { x: 0, t_x: 0, T: 0 },
  { x: 0, t_x: 0, T: 30 },
  { x: 1, t_x: 5, T: 38 },
  { x: 2, t_x: 30.43, T: 38.86 },
  { x: 7, t_x: 100, T: 365 },
  { x: 20, t_x: 300, T: 310 },
];
const horizons = [1, 39, 90, 360];

describe.each(['bgnbd', 'mbgnbd'] as const)('%s against brute-force integration over the mixing distributions', (name) => {
  const model = models[name];
  it.each(Object.entries(parameterSets))('agrees on ln L, P(alive) and E[X(t) | x, t_x, T] with %s parameters', (_, params) => {
    for (const c of grid) {
      const reference = bruteForce(name, params, c, horizons);
      // ln L: absolute 1e-7 (the quadrature's own error for the λ^{r−1} singularity is ~1e-8)
      expect(Math.abs(model.logLikelihood(params, c) - reference.logLikelihood)).toBeLessThan(1e-7);
      expect(Math.abs(model.pAlive(params, c) - reference.pAlive)).toBeLessThan(1e-7 * reference.pAlive);
      horizons.forEach((t, i) => {
        const expected = reference.expected[i] ?? Number.NaN;
        expect(Math.abs(model.expected(params, c, t) - expected)).toBeLessThan(1e-7 * expected);
      });
    }
  });
});

describe('P(alive) and expected purchases', () => {
  const params = parameterSets.cdnowDays as TransactionParams;

  it('BG/NBD: a customer without repeat purchases is alive for sure; MBG/NBD lets one-time buyers lapse', () => {
    expect(bgnbdProbabilityAlive(params, { x: 0, t_x: 0, T: 300 })).toBe(1);
    const recent = mbgnbdProbabilityAlive(params, { x: 0, t_x: 0, T: 10 });
    const old = mbgnbdProbabilityAlive(params, { x: 0, t_x: 0, T: 300 });
    expect(recent).toBeLessThan(1);
    expect(old).toBeLessThan(recent);
  });

  it('rises with recency (t_x) and falls with time since the last purchase', () => {
    for (const pAlive of [bgnbdProbabilityAlive, mbgnbdProbabilityAlive]) {
      const values = [10, 100, 200, 290, 300].map((t_x) => pAlive(params, { x: 3, t_x, T: 300 }));
      for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1] ?? 1);
    }
  });

  it('new-customer expectation is the conditional one at (0, 0, 0), grows with t and starts at 0', () => {
    for (const [expected, newCustomer] of [
      [bgnbdExpectedPurchases, bgnbdExpectedPurchasesNewCustomer],
      [mbgnbdExpectedPurchases, mbgnbdExpectedPurchasesNewCustomer],
    ] as const) {
      expect(newCustomer(params, 0)).toBe(0);
      let previous = 0;
      for (const t of [1, 30, 90, 365, 3650]) {
        const value = newCustomer(params, t);
        expect(value).toBe(expected(params, { x: 0, t_x: 0, T: 0 }, t));
        expect(value).toBeGreaterThan(previous);
        previous = value;
      }
    }
  });

  it('is continuous through a = 1 (the closed form’s removable singularity)', () => {
    const c = { x: 4, t_x: 120, T: 200 };
    for (const expected of [bgnbdExpectedPurchases, mbgnbdExpectedPurchases]) {
      const at = expected({ ...params, a: 1 }, c, 90);
      const below = expected({ ...params, a: 1 - 1e-6 }, c, 90);
      const above = expected({ ...params, a: 1 + 1e-6 }, c, 90);
      expect(Number.isFinite(at)).toBe(true);
      expect(Math.abs(at - below)).toBeLessThan(1e-5 * at);
      expect(Math.abs(at - above)).toBeLessThan(1e-5 * at);
    }
  });

  it('stays finite for very large x and T (log-space arithmetic)', () => {
    const heavy = { x: 5000, t_x: 36495, T: 36500 };
    for (const model of Object.values(models)) {
      const ll = model.logLikelihood(params, heavy);
      expect(Number.isFinite(ll)).toBe(true);
      const pAlive = model.pAlive(params, heavy);
      expect(pAlive).toBeGreaterThan(0);
      expect(pAlive).toBeLessThanOrEqual(1);
      const e = model.expected(params, heavy, 365);
      // an alive customer with rate about x/T per day buys about 365·x/T ≈ 50 times a year
      expect(e).toBeGreaterThan(10);
      expect(e).toBeLessThan(100);
    }
    // ... and a long-gone heavy buyer is dead for sure, without NaN
    expect(bgnbdProbabilityAlive(params, { x: 5000, t_x: 100, T: 36500 })).toBe(0);
    expect(bgnbdExpectedPurchases(params, { x: 5000, t_x: 100, T: 36500 }, 365)).toBe(0);
  });

  it('matches what simulated customers actually do (alive fraction and next-90-day purchases)', () => {
    // With the true parameters, P(alive) and E[X(90) | history] are posterior means: averaged over
    // many simulated customers they must match the realised alive fraction and future purchases
    // within Monte-Carlo error (4 standard errors of the realised mean).
    for (const [name, model] of Object.entries(models)) {
      const simulated = model.simulate(params, { customers: 20_000, T: { min: 30, max: 730 }, seed: 42, horizon: 90 });
      const n = simulated.length;
      const predictedAlive = simulated.reduce((s, c) => s + model.pAlive(params, c), 0) / n;
      const actualAlive = simulated.filter((c) => c.aliveAtT).length / n;
      expect(Math.abs(predictedAlive - actualAlive), name).toBeLessThan(4 * Math.sqrt((actualAlive * (1 - actualAlive)) / n));
      const future = simulated.map((c) => c.futurePurchases);
      const meanFuture = future.reduce((s, v) => s + v, 0) / n;
      const sd = Math.sqrt(future.reduce((s, v) => s + (v - meanFuture) ** 2, 0) / (n - 1));
      const predictedFuture = simulated.reduce((s, c) => s + model.expected(params, c, 90), 0) / n;
      expect(Math.abs(predictedFuture - meanFuture), name).toBeLessThan((4 * sd) / Math.sqrt(n));
    }
  });

  it('where the closed form cannot converge (z = 1 − 1e-7, ~3e8 series terms) the quadrature over p answers, as Monte Carlo does', () => {
    const [s, rho, a, beta, t] = [0.5, 1e-5, 1 + 1e-4, 3, 100];
    const rng = createRng(5);
    const n = 200_000;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const p = sampleBeta(rng, a, beta);
      const v = -Math.expm1(-sampleGamma(rng, s, rho) * p * t) / p;
      sum += v;
      sumSq += v * v;
    }
    const mean = sum / n;
    const se = Math.sqrt((sumSq / n - mean * mean) / n);
    expect(Math.abs(expectedPurchasesWhileAlive(s, rho, a, beta, t) - mean)).toBeLessThan(4 * se);
  });
});

describe.each(['bgnbd', 'mbgnbd'] as const)('%s fit', (name) => {
  const model = models[name];
  const truth = parameterSets.cdnowDays as TransactionParams;
  // whole days, so that many customers share (x, t_x, T)
  const simulated = model.simulate(truth, { customers: 5000, T: { min: 60, max: 400 }, seed: 7, wholeDays: true });
  const rows: CustomerGroup[] = simulated.map(({ x, t_x, T }) => ({ x, t_x, T }));

  it('gives the same parameters and log-likelihood on grouped and ungrouped data', () => {
    const groups = groupCustomers(rows);
    expect(groups.length).toBeLessThan(rows.length / 2);
    expect(groups.reduce((s, g) => s + (g.count ?? 1), 0)).toBe(rows.length);
    const ungrouped = model.fit(rows);
    const grouped = model.fit(groups);
    expect(grouped.customers).toBe(ungrouped.customers);
    expect(Math.abs(grouped.logLikelihood - ungrouped.logLikelihood)).toBeLessThan(1e-8 * Math.abs(ungrouped.logLikelihood));
    for (const key of ['r', 'alpha', 'a', 'b'] as const) {
      expect(Math.abs(grouped.params[key] / ungrouped.params[key] - 1)).toBeLessThan(1e-6);
    }
    // ... and the reported log-likelihood is the sum of the per-customer ones
    const sum = rows.reduce((s, c) => s + model.logLikelihood(grouped.params, c), 0);
    expect(Math.abs(grouped.logLikelihood - sum)).toBeLessThan(1e-8 * Math.abs(sum));
  });

  it('finds the same maximum with BFGS and with Nelder–Mead, and it is a maximum', () => {
    const groups = groupCustomers(rows);
    const bfgs = model.fit(groups);
    const nelderMead = model.fit(groups, { optimizer: 'nelder-mead' });
    expect(Math.abs(bfgs.logLikelihood - nelderMead.logLikelihood)).toBeLessThan(1e-6);
    for (const key of ['r', 'alpha', 'a', 'b'] as const) {
      expect(Math.abs(bfgs.params[key] / nelderMead.params[key] - 1)).toBeLessThan(1e-4);
      for (const factor of [0.99, 1.01]) {
        const moved = { ...bfgs.params, [key]: bfgs.params[key] * factor };
        const ll = rows.reduce((s, c) => s + model.logLikelihood(moved, c), 0);
        expect(ll).toBeLessThan(bfgs.logLikelihood);
      }
    }
  });

  it('throws typed errors, never NaN, when the fit cannot work', () => {
    const code = (fn: () => unknown): string | undefined => {
      try {
        fn();
        return undefined;
      } catch (error) {
        expect(error).toBeInstanceOf(ModelError);
        expect((error as ModelError).retriable).toBe(false);
        expect((error as ModelError).message.length).toBeGreaterThan(20);
        return (error as ModelError).code;
      }
    };
    expect(code(() => model.fit([]))).toBe('NO_DATA');
    expect(code(() => model.fit([{ x: 0, t_x: 0, T: 10, count: 0 }]))).toBe('NO_DATA');
    expect(code(() => model.fit([{ x: 0, t_x: 0, T: 100, count: 500 }, { x: 0, t_x: 0, T: 20 }]))).toBe('NOT_IDENTIFIABLE');
    expect(code(() => model.fit([{ x: 1, t_x: 50, T: 20 }]))).toBe('INVALID_INPUT');
    expect(code(() => model.fit([{ x: 1.5, t_x: 5, T: 20 }]))).toBe('INVALID_INPUT');
    expect(code(() => model.fit([{ x: 0, t_x: 3, T: 20 }]))).toBe('INVALID_INPUT');
    expect(code(() => model.fit([{ x: 1, t_x: 3, T: 20, count: -2 }]))).toBe('INVALID_INPUT');
    expect(code(() => model.fit([{ x: 1, t_x: 3, T: Number.NaN }]))).toBe('INVALID_INPUT');
    // one customer, or a thousand identical ones: the likelihood rises towards the boundary
    expect(code(() => model.fit([{ x: 2, t_x: 10, T: 20 }]))).toBe('FIT_NOT_CONVERGED');
    expect(code(() => model.fit([{ x: 2, t_x: 10, T: 20, count: 1000 }]))).toBe('FIT_NOT_CONVERGED');
    // a single repeat purchase among a thousand customers: an optimum, but not a strict one
    expect(code(() => model.fit([{ x: 0, t_x: 0, T: 100, count: 999 }, { x: 1, t_x: 50, T: 100 }]))).toBe('NOT_IDENTIFIABLE');
    expect(code(() => model.logLikelihood({ ...truth, a: -1 }, { x: 1, t_x: 1, T: 2 }))).toBe('INVALID_PARAMETERS');
  });
});

describe('model names', () => {
  it('label fits with the contract’s model names', () => {
    const rows = simulateBgnbd(parameterSets.cdnowDays as TransactionParams, { customers: 2000, T: 365, seed: 3 });
    const names: TransactionModelName[] = [fitBgnbd(rows).model, fitMbgnbd(rows).model];
    expect(names).toEqual(['bgnbd', 'mbgnbd']);
  });
});
