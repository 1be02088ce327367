import { describe, expect, it } from 'vitest';
import {
  bgnbdExpectedPurchases,
  clv12m,
  clv12mFromExpectedPurchases,
  gammaGammaExpectedValue,
  mbgnbdExpectedPurchases,
  ModelError,
  monthlyDiscountRate,
} from '../src/index.js';

const mbgnbd = { r: 0.525, alpha: 43.28, a: 0.891, b: 1.614 };
const gammaGamma = { p: 6.25, q: 3.74, v: 15.44 };
const params = { mbgnbd, gammaGamma };

describe('clv_12m', () => {
  it('is DESIGN.md’s discounted sum of monthly MBG/NBD purchase increments times the Gamma-Gamma value', () => {
    const customer = { x: 3, t_x: 200, T: 300, mbar: 42 };
    const value = gammaGammaExpectedValue(gammaGamma, 3, 42);
    const d = Math.pow(1.1, 1 / 12) - 1;
    let expected = 0;
    for (let m = 1; m <= 12; m++) {
      const increment = mbgnbdExpectedPurchases(mbgnbd, customer, 30 * m) - mbgnbdExpectedPurchases(mbgnbd, customer, 30 * (m - 1));
      expected += (increment * value * 1.0) / Math.pow(1 + d, m);
    }
    expect(clv12m(params, customer)).toBeCloseTo(expected, 10);
    // the purchase counts come from MBG/NBD, not BG/NBD (they differ for this customer)
    expect(Math.abs(bgnbdExpectedPurchases(mbgnbd, customer, 360) - mbgnbdExpectedPurchases(mbgnbd, customer, 360))).toBeGreaterThan(0.01);
  });

  it('uses d = (1 + annual)^(1/12) − 1, scales with the margin, telescopes without discounting', () => {
    expect(monthlyDiscountRate(0.1)).toBeCloseTo(0.00797414042890376, 14);
    const customer = { x: 1, t_x: 40, T: 120, mbar: 20 };
    const base = clv12m(params, customer);
    expect(clv12m(params, customer, { margin: 0.3 })).toBeCloseTo(0.3 * base, 10);
    const undiscounted = clv12m(params, customer, { annualDiscountRate: 0 });
    const value = gammaGammaExpectedValue(gammaGamma, 1, 20);
    expect(undiscounted).toBeCloseTo(mbgnbdExpectedPurchases(mbgnbd, customer, 360) * value, 10);
    expect(base).toBeLessThan(undiscounted);
    expect(clv12m(params, customer, { annualDiscountRate: 0.5 })).toBeLessThan(base);
  });

  it('values a customer without repeat purchases at the population mean, and needs m̄ otherwise', () => {
    const newcomer = { x: 0, t_x: 0, T: 10 };
    const population = (6.25 * 15.44) / 2.74;
    expect(clv12m(params, newcomer)).toBeCloseTo(
      clv12mFromExpectedPurchases((t) => mbgnbdExpectedPurchases(mbgnbd, newcomer, t), population),
      10,
    );
    expect(() => clv12m(params, { x: 2, t_x: 10, T: 20 })).toThrow(ModelError);
    expect(() => clv12m(params, newcomer, { annualDiscountRate: -1 })).toThrow(ModelError);
  });

  it('is lower for a lapsed customer than for an active one with the same history length', () => {
    const active = clv12m(params, { x: 5, t_x: 350, T: 360, mbar: 30 });
    const lapsed = clv12m(params, { x: 5, t_x: 60, T: 360, mbar: 30 });
    expect(lapsed).toBeLessThan(active / 5);
  });
});
