import { describe, expect, it } from 'vitest';
import {
  fitGammaGamma,
  gammaGammaExpectedValue,
  gammaGammaLogLikelihood,
  gammaGammaPopulationMean,
  ModelError,
  simulateBgnbd,
  simulateGammaGamma,
  type SpendRow,
} from '../src/index.js';

const truth = { p: 6.25, q: 3.74, v: 15.44 };

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).retriable).toBe(false);
    return (error as ModelError).code;
  }
}

describe('Gamma-Gamma', () => {
  it('has a density that integrates to 1 over m̄', () => {
    // ∫ f(m̄) dm̄ over (0, ∞), with m̄ = e^u (trapezoid in u)
    for (const x of [1, 3, 12]) {
      let sum = 0;
      const h = 0.005;
      for (let u = -15; u <= 15; u += h) sum += Math.exp(gammaGammaLogLikelihood(truth, { x, mbar: 25 * Math.exp(u) }) + u) * 25 * h;
      expect(sum).toBeCloseTo(1, 8);
    }
  });

  it('E[M | x, m̄] is the credibility-weighted mean of the population mean and m̄', () => {
    const population = gammaGammaPopulationMean(truth);
    expect(population).toBeCloseTo((6.25 * 15.44) / 2.74, 12);
    expect(gammaGammaExpectedValue(truth, 0)).toBe(population);
    for (const [x, mbar] of [
      [1, 10],
      [4, 80],
      [50, 33],
    ] as const) {
      const weight = (truth.p * x) / (truth.p * x + truth.q - 1);
      expect(gammaGammaExpectedValue(truth, x, mbar)).toBeCloseTo((1 - weight) * population + weight * mbar, 10);
    }
    // more repeat purchases pull the estimate towards the customer's own mean
    const few = gammaGammaExpectedValue(truth, 1, 100);
    const many = gammaGammaExpectedValue(truth, 20, 100);
    expect(many).toBeGreaterThan(few);
    expect(many).toBeLessThan(100);
  });

  it('says clearly when q ≤ 1 makes the population mean infinite', () => {
    expect(code(() => gammaGammaPopulationMean({ p: 2, q: 0.9, v: 10 }))).toBe('INVALID_PARAMETERS');
    expect(() => gammaGammaExpectedValue({ p: 2, q: 1, v: 10 }, 0)).toThrow(/q = 1 ≤ 1.*infinite/);
    // a customer with repeat purchases still has a finite conditional mean
    expect(Number.isFinite(gammaGammaExpectedValue({ p: 2, q: 0.9, v: 10 }, 2, 30))).toBe(true);
  });

  it('matches what simulated customers spend on average (posterior-mean calibration)', () => {
    const frequencies = simulateBgnbd({ r: 0.243, alpha: 30.9, a: 0.793, b: 2.426 }, { customers: 40_000, T: 365, seed: 11 }).map(
      (c) => c.x,
    );
    const spend = simulateGammaGamma(truth, frequencies, { seed: 12 }).filter((s) => s.x > 0);
    const differences = spend.map((s) => s.meanValue - gammaGammaExpectedValue(truth, s.x, s.mbar));
    const n = differences.length;
    const mean = differences.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(differences.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    expect(Math.abs(mean)).toBeLessThan((4 * sd) / Math.sqrt(n));
  });

  it('fits grouped rows exactly like the repeated rows, skipping x = 0', () => {
    const rows: SpendRow[] = simulateGammaGamma(truth, [1, 1, 2, 3, 5, 8, 1, 2, 4, 0, 6, 2, 1, 3, 9, 1, 2, 2, 7, 1], { seed: 5 });
    const repeated = rows.flatMap((r) => [r, r, r]);
    const grouped = rows.map((r) => ({ ...r, count: 3 }));
    const a = fitGammaGamma(repeated);
    const b = fitGammaGamma(grouped);
    expect(a.customers).toBe(57);
    expect(b.customers).toBe(57);
    expect(b.logLikelihood).toBeCloseTo(a.logLikelihood, 8);
    for (const key of ['p', 'q', 'v'] as const) expect(b.params[key] / a.params[key]).toBeCloseTo(1, 6);
    const sum = repeated.filter((r) => r.x > 0).reduce((s, r) => s + gammaGammaLogLikelihood(a.params, r), 0);
    expect(a.logLikelihood).toBeCloseTo(sum, 8);
  });

  it('throws typed errors when the fit cannot work', () => {
    expect(code(() => fitGammaGamma([]))).toBe('NO_DATA');
    expect(code(() => fitGammaGamma([{ x: 0, mbar: 0, count: 100 }]))).toBe('NO_DATA');
    expect(code(() => fitGammaGamma([{ x: 2, mbar: 0 }]))).toBe('INVALID_INPUT');
    expect(code(() => fitGammaGamma([{ x: 2, mbar: -5 }]))).toBe('INVALID_INPUT');
    expect(code(() => fitGammaGamma([{ x: 2.5, mbar: 5 }]))).toBe('INVALID_INPUT');
    // everyone spends the same: p → ∞
    expect(code(() => fitGammaGamma([1, 2, 3, 4].map((x) => ({ x, mbar: 10 }))))).toBe('FIT_NOT_CONVERGED');
    expect(code(() => gammaGammaExpectedValue(truth, 2))).toBe('INVALID_INPUT');
  });
});
