import { describe, expect, it } from 'vitest';
import { clv12mFromExpectedPurchases, mbgnbdExpectedPurchasesIfAlive } from '@crm/models';
import { DEFAULT_SCORING_PARAMETERS } from '../src/parameters.js';
import { predictIfAlive } from '../src/scores.js';

/**
 * The expectation if alive depends on x and T only, so the run computes it
 * once per distinct (x, T) of its groups; each must still be exactly what
 * @crm/models gives for any t_x.
 */
describe('predictions if alive', () => {
  const fit = { r: 0.82, alpha: 41.5, a: 0.71, b: 5.3 };
  const groups = [
    { x: 3, t_x: 200, T: 400, count: 5 },
    { x: 0, t_x: 0, T: 30, count: 2 },
    { x: 3, t_x: 20, T: 400, count: 1 },
    { x: 3, t_x: 399, T: 400, count: 1 },
    { x: 3, t_x: 200, T: 401, count: 1 },
    { x: 40, t_x: 900, T: 1000, count: 1 },
  ];

  it('one row per distinct (x, T), equal to @crm/models whatever the t_x', () => {
    const predictions = predictIfAlive(fit, groups, DEFAULT_SCORING_PARAMETERS);
    expect(predictions.map((p) => [p.x, p.T_c])).toEqual([[3, 400], [0, 30], [3, 401], [40, 1000]]);
    const discounting = { margin: DEFAULT_SCORING_PARAMETERS.clvMargin, annualDiscountRate: DEFAULT_SCORING_PARAMETERS.clvAnnualDiscountRate };
    for (const p of predictions) {
      for (const t_x of [0, Math.floor(p.T_c / 2), p.T_c]) {
        const summary = { x: p.x, t_x: p.x === 0 ? 0 : t_x, T: p.T_c };
        const ifAlive = (days: number) => mbgnbdExpectedPurchasesIfAlive(fit, summary, days);
        expect(p.expected_90d_alive).toBe(ifAlive(90));
        expect(p.clv_alive_factor).toBe(clv12mFromExpectedPurchases(ifAlive, 1, discounting));
      }
    }
  });
});
