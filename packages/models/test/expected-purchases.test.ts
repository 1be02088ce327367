import { describe, expect, it } from 'vitest';
import { createRng, expectedPurchasesWhileAlive, sampleBeta, sampleGamma } from '../src/index.js';
import { expectedPurchasesByQuadrature, expectedPurchasesClosedForm } from '../src/transaction-model.js';

/**
 * E[(1 − e^{−λpt})/p], λ ~ Gamma(s, ρ), p ~ Beta(a, β): the closed form (a 2F1 series) and the
 * quadrature over logit p are independent computations of one number; where both can be
 * evaluated they must agree, and where the closed form cannot (a Beta near a point mass, as a
 * fit to customers who all drop out alike gives) the quadrature answers.
 */
const grid = {
  a: [0.3, 0.8, 1, 1.0005, 2.5, 10, 40, 60, 95],
  beta: [0.7, 2.4, 30, 60, 95],
  s: [0.19, 2.2, 15],
  rho: [0.5, 4.1, 40, 400],
  t: [30, 90, 365],
};

describe('expected purchases while alive', () => {
  it('the closed form and the quadrature agree to 1e-8 wherever the closed form can be evaluated (a + β ≤ 100)', () => {
    let compared = 0;
    const disagreements: string[] = [];
    for (const a of grid.a)
      for (const beta of grid.beta)
        for (const s of grid.s)
          for (const rho of grid.rho)
            for (const t of grid.t) {
              if (a + beta > 100) continue;
              let closed: number;
              try {
                closed = expectedPurchasesClosedForm(s, rho, a, beta, t);
              } catch {
                continue;
              }
              if (!Number.isFinite(closed)) continue;
              compared++;
              const quadrature = expectedPurchasesByQuadrature(s, rho, a, beta, t);
              if (Math.abs(closed - quadrature) > 1e-8 * Math.max(quadrature, 1e-3)) disagreements.push(`s=${s} ρ=${rho} a=${a} β=${beta} t=${t}: ${closed} vs ${quadrature}`);
            }
    expect(disagreements).toEqual([]);
    // Most of the grid is in the closed form's reach: the comparison is not vacuous.
    expect(compared).toBeGreaterThan(700);
  });

  it('many purchases before dropout (a = 10, β = 30): the value Monte Carlo gives, not the early-stopped series (4.32 before the fix)', () => {
    const [s, rho, a, beta, t] = [2.19, 40, 10, 30, 90];
    const rng = createRng(11);
    const n = 400_000;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const lambda = sampleGamma(rng, s, rho);
      const p = sampleBeta(rng, a, beta);
      const v = -Math.expm1(-lambda * p * t) / p;
      sum += v;
      sumSq += v * v;
    }
    const mean = sum / n;
    const se = Math.sqrt((sumSq / n - mean * mean) / n);
    expect(Math.abs(expectedPurchasesWhileAlive(s, rho, a, beta, t) - mean)).toBeLessThan(4 * se);
  });

  it('a Beta near a point mass (the fit a = 1.0e6, β = 3.8e6 that stopped every scoring run) gives g(mean p), not NaN', () => {
    const [s, rho, a, beta, t] = [0.19129586341872898, 4.0998702804831675, 1005918.5025744974, 3849626.076604601, 90];
    const p = a / (a + beta);
    const atMean = -Math.expm1(-s * Math.log1p((p * t) / rho)) / p;
    expect(Math.abs(expectedPurchasesWhileAlive(s, rho, a, beta, t) - atMean)).toBeLessThan(1e-5 * atMean);
  });

  it('is continuous where the method changes (a + β = 100) and finite where the series fails', () => {
    for (const [a, s, rho, t] of [
      [50, 0.19, 4.1, 90],
      [95, 2.19, 40, 90],
      [2, 0.8, 0.5, 360],
    ] as const) {
      const below = expectedPurchasesWhileAlive(s, rho, a, 100 - a - 1e-6, t);
      const above = expectedPurchasesWhileAlive(s, rho, a, 100 - a + 1e-6, t);
      // β moves by 2e-6 across the switch: the function itself changes by about that much relatively.
      expect(Math.abs(below - above)).toBeLessThan(1e-7 * below);
    }
    for (const [s, rho, a, beta, t] of [
      [0.5, 1e-5, 1 + 1e-4, 3, 100],
      [0.19, 4.1, 0.5, 1e5, 90],
      [0.8, 0.5, 0.9, 3e6, 360],
      // a fit to a handful of test customers: almost every p near 0
      [6725762.723416015, 1493118965.2005458, 3.253851685758314e-7, 8185117.860808919, 90],
    ] as const) {
      expect(Number.isFinite(expectedPurchasesWhileAlive(s, rho, a, beta, t))).toBe(true);
    }
  });
});
