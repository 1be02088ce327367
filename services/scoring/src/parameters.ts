import { z } from 'zod';
import { setting } from '@crm/runtime';

/** The metric definitions' tunables (DESIGN.md); defaults are the design's. */
export const scoringParameterSettings = {
  SCORING_WINDOW_DAYS: setting.positiveInt(365),
  SCORING_NEW_CUSTOMER_DAYS: setting.positiveInt(30),
  SCORING_REACTIVATION_DAYS: setting.positiveInt(30),
  SCORING_CHURN_THRESHOLD: z.coerce.number().gt(0).lte(1).default(0.8),
  SCORING_AT_RISK_THRESHOLD: z.coerce.number().gt(0).lte(1).default(0.5),
  CLV_MARGIN: z.coerce.number().positive().default(1),
  CLV_ANNUAL_DISCOUNT_RATE: z.coerce.number().gt(-1).default(0.1),
};

export interface ScoringParameters {
  windowDays: number;
  newCustomerDays: number;
  reactivationDays: number;
  churnThreshold: number;
  atRiskThreshold: number;
  clvMargin: number;
  clvAnnualDiscountRate: number;
}

export const DEFAULT_SCORING_PARAMETERS: ScoringParameters = Object.freeze({
  windowDays: 365,
  newCustomerDays: 30,
  reactivationDays: 30,
  churnThreshold: 0.8,
  atRiskThreshold: 0.5,
  clvMargin: 1,
  clvAnnualDiscountRate: 0.1,
});

export function scoringParameters(config: {
  SCORING_WINDOW_DAYS: number;
  SCORING_NEW_CUSTOMER_DAYS: number;
  SCORING_REACTIVATION_DAYS: number;
  SCORING_CHURN_THRESHOLD: number;
  SCORING_AT_RISK_THRESHOLD: number;
  CLV_MARGIN: number;
  CLV_ANNUAL_DISCOUNT_RATE: number;
}): ScoringParameters {
  return Object.freeze({
    windowDays: config.SCORING_WINDOW_DAYS,
    newCustomerDays: config.SCORING_NEW_CUSTOMER_DAYS,
    reactivationDays: config.SCORING_REACTIVATION_DAYS,
    churnThreshold: config.SCORING_CHURN_THRESHOLD,
    atRiskThreshold: config.SCORING_AT_RISK_THRESHOLD,
    clvMargin: config.CLV_MARGIN,
    clvAnnualDiscountRate: config.CLV_ANNUAL_DISCOUNT_RATE,
  });
}
