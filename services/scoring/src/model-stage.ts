import {
  clv12mFromExpectedPurchases,
  fitBgnbd,
  fitGammaGamma,
  fitMbgnbd,
  mbgnbdExpectedPurchases,
  mbgnbdProbabilityAlive,
  type CustomerGroup,
  type GammaGammaFit,
  type GammaGammaParams,
  type SpendRow,
  type TransactionFit,
  type TransactionParams,
} from '@crm/models';
import type { ScoringParameters } from './parameters.js';

export interface ModelFits {
  bgnbd?: TransactionFit;
  mbgnbd?: TransactionFit;
  gammaGamma?: GammaGammaFit;
  /** Why a model could not be fitted (a clear message, never NaN scores). */
  failures: { model: string; error: string }[];
}

/** Fits all three models; a model that cannot be fitted is reported, and its scores stay null. */
export function fitModels(groups: CustomerGroup[], spend: SpendRow[]): ModelFits {
  const fits: ModelFits = { failures: [] };
  const attempt = <T>(model: string, fit: () => T): T | undefined => {
    try {
      return fit();
    } catch (error) {
      fits.failures.push({ model, error: (error as Error).message });
      return undefined;
    }
  };
  if (groups.length > 0) {
    // A bounded search: on data the model does not describe, a failed fit must fail fast.
    const bgnbd = attempt('bgnbd', () => fitBgnbd(groups, { standardErrors: false, maxIterations: 300 }));
    const mbgnbd = attempt('mbgnbd', () => fitMbgnbd(groups, { standardErrors: false, maxIterations: 300 }));
    if (bgnbd) fits.bgnbd = bgnbd;
    if (mbgnbd) fits.mbgnbd = mbgnbd;
  }
  if (spend.length > 0) {
    const gg = attempt('gamma_gamma', () => fitGammaGamma(spend, { standardErrors: false, maxIterations: 300 }));
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
}

/** The fitted parameters scores are computed with: a full run's own fits, or the newest run's for an incremental update. */
export interface ScoringModels {
  mbgnbd?: TransactionParams;
  gammaGamma?: GammaGammaParams;
}

export function scoringModels(fits: ModelFits): ScoringModels {
  return {
    ...(fits.mbgnbd && { mbgnbd: fits.mbgnbd.params }),
    ...(fits.gammaGamma && { gammaGamma: fits.gammaGamma.params }),
  };
}

/** MBG/NBD predictions once per distinct (x, t_x, T) — far fewer than customers. */
export function predictGroups(mbgnbd: TransactionParams, groups: readonly CustomerGroup[], params: ScoringParameters): GroupPrediction[] {
  return groups.map((g) => {
    const summary = { x: g.x, t_x: g.t_x, T: g.T };
    return {
      x: g.x,
      t_x: g.t_x,
      T_c: g.T,
      p_alive: mbgnbdProbabilityAlive(mbgnbd, summary),
      expected_90d: mbgnbdExpectedPurchases(mbgnbd, summary, 90),
      clv_factor: clv12mFromExpectedPurchases((days) => mbgnbdExpectedPurchases(mbgnbd, summary, days), 1, {
        margin: params.clvMargin,
        annualDiscountRate: params.clvAnnualDiscountRate,
      }),
    };
  });
}
