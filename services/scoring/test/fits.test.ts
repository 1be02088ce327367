import { describe, expect, it } from 'vitest';
import { chooseModels, refitDue, type StoredFit, type StoredFits } from '../src/fits.js';

const HOUR = 3_600_000;
const T = Date.parse('2026-06-30T00:00:00Z');
const rules = { refitIntervalSeconds: 86_400, refitOnGrowth: 0.1 };
const fit = (model: StoredFit['model'], at: number, customers: number, converged = true): StoredFit => ({
  model,
  asOf: new Date(at),
  params: model === 'gamma_gamma' ? { p: 6, q: 4, v: 15 } : { r: 0.5, alpha: 20, a: 0.7, b: 3 },
  customers,
  converged,
});
const stored = (...fits: StoredFit[]): StoredFits => ({
  newestAttempt: Object.fromEntries(fits.map((f) => [f.model, f])),
  newestConverged: Object.fromEntries(fits.filter((f) => f.converged).map((f) => [f.model, f])),
});

describe('refit cadence', () => {
  const fresh = stored(fit('mbgnbd', T - HOUR, 1000), fit('gamma_gamma', T - HOUR, 400));
  it.each([
    ['no fit yet', stored(), 1000, 400, true],
    ['fresh fits, same buyers', fresh, 1000, 400, false],
    ['fresh fits, 10 % more buyers (not more than the fraction)', fresh, 1100, 400, false],
    ['fresh fits, 11 % more buyers', fresh, 1110, 400, true],
    ['fresh fits, 11 % fewer buyers', fresh, 890, 400, true],
    ['no buyers at all', stored(), 0, 0, false],
    ['Gamma-Gamma never attempted though repeat buyers exist', stored(fit('mbgnbd', T - HOUR, 1000)), 1000, 400, true],
    ['a day old', stored(fit('mbgnbd', T - 24 * HOUR, 1000), fit('gamma_gamma', T - HOUR, 400)), 1000, 400, true],
    ['a fresh attempt that failed is not retried before the interval', stored(fit('mbgnbd', T - HOUR, 1000, false), fit('gamma_gamma', T - HOUR, 400)), 1000, 400, false],
  ])('%s', (_, fits, buyers, repeatBuyers, due) => {
    expect(refitDue(fits, { asOf: new Date(T), buyers, repeatBuyers }, rules)).toBe(due);
  });
});

describe('which fits score a run', () => {
  it('this run\'s converged fit first, else the newest converged stored one, never a failed one', () => {
    const older = fit('mbgnbd', T - 48 * HOUR, 900);
    const fits: StoredFits = {
      newestAttempt: { mbgnbd: fit('mbgnbd', T - HOUR, 1000, false), gamma_gamma: fit('gamma_gamma', T - 2 * HOUR, 400) },
      newestConverged: { mbgnbd: older, gamma_gamma: fit('gamma_gamma', T - 2 * HOUR, 400) },
    };
    expect(chooseModels(new Date(T), undefined, fits)).toEqual({
      models: { mbgnbd: older.params, gammaGamma: { p: 6, q: 4, v: 15 } },
      mbgnbdAsOf: older.asOf,
      gammaGammaAsOf: new Date(T - 2 * HOUR),
    });
    const ownFit = { params: { r: 1, alpha: 2, a: 3, b: 4 } } as never;
    expect(chooseModels(new Date(T), { mbgnbd: ownFit, failures: [] }, fits)).toMatchObject({
      models: { mbgnbd: { r: 1, alpha: 2, a: 3, b: 4 } },
      mbgnbdAsOf: new Date(T),
    });
    expect(chooseModels(new Date(T), { failures: [] }, { newestAttempt: {}, newestConverged: {} })).toEqual({ models: {} });
  });
});
