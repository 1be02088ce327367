import {
  clv12mFromExpectedPurchases,
  fitBgnbd,
  fitGammaGamma,
  fitMbgnbd,
  mbgnbdExpectedPurchases,
  mbgnbdExpectedPurchasesIfAlive,
  mbgnbdProbabilityAlive,
  type CustomerGroup,
  type GammaGammaFit,
  type GammaGammaParams,
  type SpendRow,
  type TransactionFit,
  type TransactionParams,
} from '@crm/models';
import type { ScoringParameters } from './parameters.js';

export type ModelName = 'bgnbd' | 'mbgnbd' | 'gamma_gamma';

export interface ModelFits {
  bgnbd?: TransactionFit;
  mbgnbd?: TransactionFit;
  gammaGamma?: GammaGammaFit;
  /** Why a model could not be fitted (a clear message, never NaN scores), and over how many customers it was tried. */
  failures: { model: ModelName; error: string; customers: number }[];
}

/**
 * Fits all three models with standard errors (inverse Hessian at the optimum,
 * where it is positive definite: a ridge optimum — e.g. Gamma-Gamma's q, v → ∞
 * when spend hardly varies between customers — still predicts well and has
 * none). A fit that did not converge, or converged onto the boundary, throws
 * in @crm/models; it is reported as a failure and not used.
 */
export function fitModels(groups: CustomerGroup[], spend: SpendRow[]): ModelFits {
  const fits: ModelFits = { failures: [] };
  const count = (rows: readonly { count?: number }[]) => rows.reduce((n, r) => n + (r.count ?? 1), 0);
  const attempt = <T>(model: ModelName, customers: number, fit: () => T): T | undefined => {
    try {
      return fit();
    } catch (error) {
      fits.failures.push({ model, error: (error as Error).message, customers });
      return undefined;
    }
  };
  if (groups.length > 0) {
    // A bounded search: on data the model does not describe, a failed fit must fail fast.
    const bgnbd = attempt('bgnbd', count(groups), () => fitBgnbd(groups, { maxIterations: 300, standardErrors: 'when-identified' }));
    const mbgnbd = attempt('mbgnbd', count(groups), () => fitMbgnbd(groups, { maxIterations: 300, standardErrors: 'when-identified' }));
    if (bgnbd) fits.bgnbd = bgnbd;
    if (mbgnbd) fits.mbgnbd = mbgnbd;
  }
  if (spend.length > 0) {
    const gg = attempt('gamma_gamma', count(spend), () => fitGammaGamma(spend, { maxIterations: 300, standardErrors: 'when-identified' }));
    if (gg) fits.gammaGamma = gg;
  }
  return fits;
}

export interface GroupPrediction {
  x: number;
  t_x: number;
  T_c: number;
  p_alive: number;
  expected_90d: number;
  /** Σ_m (E[X(30m)] − E[X(30(m−1))]) · margin / (1+d)^m: clv_12m is this times E[value]. */
  clv_factor: number;
  /** The same sum for the customer known to be alive: clv_alive_12m is this times E[value]. */
  clv_alive_factor: number;
}

/** The fitted parameters scores are computed with: a full run's own fits, or the newest run's for an incremental update. */
export interface ScoringModels {
  mbgnbd?: TransactionParams;
  gammaGamma?: GammaGammaParams;
}

/** MBG/NBD predictions once per distinct (x, t_x, T) — far fewer than customers. */
export function predictGroups(mbgnbd: TransactionParams, groups: readonly CustomerGroup[], params: ScoringParameters): GroupPrediction[] {
  const discounting = { margin: params.clvMargin, annualDiscountRate: params.clvAnnualDiscountRate };
  return groups.map((g) => {
    const summary = { x: g.x, t_x: g.t_x, T: g.T };
    return {
      x: g.x,
      t_x: g.t_x,
      T_c: g.T,
      p_alive: mbgnbdProbabilityAlive(mbgnbd, summary),
      expected_90d: mbgnbdExpectedPurchases(mbgnbd, summary, 90),
      clv_factor: clv12mFromExpectedPurchases((days) => mbgnbdExpectedPurchases(mbgnbd, summary, days), 1, discounting),
      clv_alive_factor: clv12mFromExpectedPurchases((days) => mbgnbdExpectedPurchasesIfAlive(mbgnbd, summary, days), 1, discounting),
    };
  });
}
