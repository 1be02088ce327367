import { describe, expect, it } from 'vitest';
import {
  createRng,
  sampleBeta,
  sampleExponential,
  sampleGamma,
  samplePoisson,
  simulateBgnbd,
  simulateGammaGamma,
  simulateMbgnbd,
} from '../src/index.js';

function moments(draw: () => number, n: number): { mean: number; variance: number } {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const v = draw();
    sum += v;
    sumSq += v * v;
  }
  const mean = sum / n;
  return { mean, variance: sumSq / n - mean * mean };
}

describe('seeded random numbers', () => {
  it('is reproducible per seed and differs between seeds', () => {
    const a = createRng(123);
    const b = createRng(123);
    const c = createRng(124);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
    for (const x of xs) {
      expect(x).toBeGreaterThan(0);
      expect(x).toBeLessThan(1);
    }
  });

  it('has the right moments (uniform, exponential, gamma, beta, Poisson)', () => {
    const rng = createRng(2024);
    const n = 200_000;
    // tolerances: about 5 standard errors of the sample mean
    const u = moments(() => rng.next(), n);
    expect(Math.abs(u.mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(u.variance).toBeCloseTo(1 / 12, 3);
    const e = moments(() => sampleExponential(rng, 2), n);
    expect(Math.abs(e.mean - 0.5)).toBeLessThan(5 * Math.sqrt(0.25 / n));
    for (const [shape, rate] of [
      [0.24, 30.9],
      [6.25, 1.5],
    ] as const) {
      const g = moments(() => sampleGamma(rng, shape, rate), n);
      const variance = shape / rate ** 2;
      expect(Math.abs(g.mean - shape / rate)).toBeLessThan(5 * Math.sqrt(variance / n));
      expect(Math.abs(g.variance / variance - 1)).toBeLessThan(0.05);
    }
    const [a, b] = [0.79, 2.43];
    const beta = moments(() => sampleBeta(rng, a, b), n);
    const betaVariance = (a * b) / ((a + b) ** 2 * (a + b + 1));
    expect(Math.abs(beta.mean - a / (a + b))).toBeLessThan(5 * Math.sqrt(betaVariance / n));
    for (const mean of [3, 50]) {
      const p = moments(() => samplePoisson(rng, mean), n);
      expect(Math.abs(p.mean - mean)).toBeLessThan(5 * Math.sqrt(mean / n));
      expect(Math.abs(p.variance / mean - 1)).toBeLessThan(0.03);
    }
  });
});

describe('customer simulation', () => {
  const params = { r: 0.243, alpha: 30.9, a: 0.793, b: 2.426 };

  it('produces valid, reproducible (x, t_x, T)', () => {
    const one = simulateBgnbd(params, { customers: 1000, T: { min: 30, max: 365 }, seed: 9 });
    const two = simulateBgnbd(params, { customers: 1000, T: { min: 30, max: 365 }, seed: 9 });
    expect(two).toEqual(one);
    for (const c of one) {
      expect(Number.isInteger(c.x)).toBe(true);
      expect(c.t_x).toBeLessThanOrEqual(c.T);
      if (c.x === 0) expect(c.t_x).toBe(0);
      expect(c.T).toBeGreaterThanOrEqual(30);
      expect(c.T).toBeLessThanOrEqual(365);
    }
  });

  it('whole days: integer times, same-day purchases collapsed', () => {
    const customers = simulateMbgnbd({ ...params, alpha: 2 }, { customers: 2000, T: { min: 10, max: 100 }, seed: 4, wholeDays: true });
    for (const c of customers) {
      expect(Number.isInteger(c.T) && Number.isInteger(c.t_x)).toBe(true);
      expect(c.x).toBeLessThanOrEqual(c.T);
      expect(c.t_x).toBeGreaterThanOrEqual(c.x === 0 ? 0 : c.x);
    }
  });

  it('MBG/NBD loses one-time buyers at time 0, BG/NBD does not', () => {
    const bg = simulateBgnbd(params, { customers: 20_000, T: 0.001, seed: 1 });
    const mbg = simulateMbgnbd(params, { customers: 20_000, T: 0.001, seed: 1 });
    expect(bg.every((c) => c.aliveAtT)).toBe(true);
    const deadShare = mbg.filter((c) => !c.aliveAtT).length / mbg.length;
    // P(drop at 0) = E[p] = a/(a+b) ≈ 0.246
    expect(Math.abs(deadShare - 0.793 / (0.793 + 2.426))).toBeLessThan(0.015);
  });

  it('draws Gamma-Gamma means with the right population average', () => {
    const gg = { p: 6.25, q: 3.74, v: 15.44 };
    const spend = simulateGammaGamma(gg, Array.from({ length: 50_000 }, () => 1), { seed: 3 });
    const mean = spend.reduce((s, c) => s + c.mbar, 0) / spend.length;
    // E[m̄ | x = 1] = p v/(q − 1) = 35.22; its sd is about 25 here
    expect(Math.abs(mean - (6.25 * 15.44) / 2.74)).toBeLessThan(1);
    expect(simulateGammaGamma(gg, [0], { seed: 1 })[0]?.mbar).toBe(0);
  });
});
