/**
 * Published results on the CDNOW sample (time unit: weeks).
 */
import { describe, expect, it } from 'vitest';
import {
  bgnbdExpectedPurchases,
  bgnbdExpectedPurchasesNewCustomer,
  fitBgnbd,
  fitGammaGamma,
  fitMbgnbd,
  gammaGammaLogLikelihood,
  groupCustomers,
} from '../src/index.js';
import { loadCdnow } from './cdnow.js';

const customers = loadCdnow();
const summaries = customers.map(({ x, t_x, T }) => ({ x, t_x, T }));

describe('CDNOW sample', () => {
  it('has the 2 357 customers of the paper, 1 411 of them without a repeat purchase', () => {
    expect(customers).toHaveLength(2357);
    expect(customers.filter((c) => c.x === 0)).toHaveLength(1411);
  });

  it('BG/NBD reproduces Fader, Hardie & Lee (2005): r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9582.4', () => {
    const fit = fitBgnbd(groupCustomers(summaries));
    expect(fit.params.r.toFixed(3)).toBe('0.243');
    expect(fit.params.alpha.toFixed(3)).toBe('4.414');
    expect(fit.params.a.toFixed(3)).toBe('0.793');
    expect(fit.params.b.toFixed(3)).toBe('2.426');
    expect(fit.logLikelihood.toFixed(1)).toBe('-9582.4');
    expect(fit.customers).toBe(2357);
  });

  it('BG/NBD reproduces the expectations of Hardie’s spreadsheet implementation', () => {
    const { params } = fitBgnbd(summaries);
    // "Implementing the BG/NBD model in Excel": E[X(39) | x = 2, t_x = 30.43, T = 38.86] = 1.226
    expect(Math.abs(bgnbdExpectedPurchases(params, { x: 2, t_x: 30.43, T: 38.86 }, 39) - 1.226)).toBeLessThan(5e-4);
    // E[X(t)] for a new customer, to the 4 decimals printed there
    const times = [0.1429, 1.0, 3.0, 31.8571, 32.0, 78.0];
    const expected = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576];
    times.forEach((t, i) => expect(Math.abs(bgnbdExpectedPurchasesNewCustomer(params, t) - (expected[i] ?? 0))).toBeLessThan(5e-4));
  });

  it('BG/NBD in days gives the same fit with α × 7 and the log-likelihood shifted by −Σx·ln 7', () => {
    const weeks = fitBgnbd(summaries);
    const days = fitBgnbd(summaries.map(({ x, t_x, T }) => ({ x, t_x: 7 * t_x, T: 7 * T })));
    expect(days.params.alpha / weeks.params.alpha).toBeCloseTo(7, 5);
    expect(days.params.r).toBeCloseTo(weeks.params.r, 6);
    expect(days.params.a).toBeCloseTo(weeks.params.a, 5);
    expect(days.params.b).toBeCloseTo(weeks.params.b, 5);
    const sumX = summaries.reduce((s, c) => s + c.x, 0);
    expect(days.logLikelihood).toBeCloseTo(weeks.logLikelihood - sumX * Math.log(7), 6);
  });

  it('MBG/NBD reproduces the BTYDplus estimates r = 0.525, α = 6.183, a = 0.891, b = 1.614', () => {
    const fit = fitMbgnbd(summaries);
    expect(fit.params.r.toFixed(3)).toBe('0.525');
    expect(fit.params.alpha.toFixed(3)).toBe('6.183');
    expect(fit.params.a.toFixed(3)).toBe('0.891');
    expect(fit.params.b.toFixed(3)).toBe('1.614');
  });

  it('Gamma-Gamma reproduces Fader, Hardie & Lee (2005, RFM and CLV): p = 6.25, q = 3.74, v = 15.44', () => {
    const rows = customers.map(({ x, mbar }) => ({ x, mbar }));
    const fit = fitGammaGamma(rows);
    expect(fit.customers).toBe(946);
    expect(fit.params.p.toFixed(2)).toBe('6.25');
    expect(fit.params.q.toFixed(2)).toBe('3.74');
    // The exact maximum is v = 15.448; the paper's 15.44 came from a spreadsheet optimiser and
    // has a (slightly) lower likelihood, so the difference is the paper's rounding, not ours.
    expect(Math.abs(fit.params.v - 15.44)).toBeLessThan(0.01);
    const published = { p: 6.25, q: 3.74, v: 15.44 };
    const repeaters = rows.filter((r) => r.x > 0);
    const publishedLL = repeaters.reduce((s, r) => s + gammaGammaLogLikelihood(published, r), 0);
    expect(fit.logLikelihood).toBeGreaterThan(publishedLL);
    expect(fit.logLikelihood - publishedLL).toBeLessThan(0.01);
  });
});
