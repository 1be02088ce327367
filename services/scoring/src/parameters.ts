import { z } from 'zod';
import { loadConfig, setting, type Env } from '@crm/runtime';
import { VALUE_TIERS } from './segments.js';

const probability = (fallback: number) => z.coerce.number().gt(0).lte(1).default(fallback);

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
/** A duration in seconds: a number of seconds, or a number with s, m, h or d (e.g. `12h`, `1d`); 0 means always. */
export const duration = (fallback: string) =>
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?[smhd]?$/, 'must be a duration such as 3600, 30m, 12h or 1d')
    .default(fallback)
    .transform((text) => Number(text.replace(/[smhd]$/, '')) * (DURATION_UNITS[text.at(-1)!] ?? 1));

/** The metric definitions' tunables (DESIGN.md) and the at-risk rules; defaults are the design's. */
export const scoringParameterSettings = {
  SCORING_WINDOW_DAYS: setting.positiveInt(365),
  SCORING_NEW_CUSTOMER_DAYS: setting.positiveInt(30),
  SCORING_REACTIVATION_DAYS: setting.positiveInt(30),
  SCORING_CHURN_THRESHOLD: probability(0.8),
  SCORING_AT_RISK_THRESHOLD: probability(0.5),
  /** Leaving at_risk or churned needs churn_probability this far below the stage's threshold (hysteresis). */
  SCORING_STAGE_HYSTERESIS: z.coerce.number().min(0).lt(1).default(0.1),
  /** A customer's last NPS answer counts (alerts, blocks recovery, shows as last_nps) for this many days. */
  SCORING_NPS_WINDOW_DAYS: setting.positiveInt(180),
  /** Full runs refit the models when the newest fit is older than this; in between they reuse it. */
  SCORING_REFIT_INTERVAL: duration('1d'),
  /** ...or when the number of buyers changed by more than this fraction since that fit. */
  SCORING_REFIT_ON_GROWTH: z.coerce.number().positive().default(0.1),
  CLV_MARGIN: z.coerce.number().positive().default(1),
  CLV_ANNUAL_DISCOUNT_RATE: z.coerce.number().gt(-1).default(0.1),
  /** A customer worth keeping whose churn probability reaches this is at risk (the scoring path). */
  RISK_CHURN_THRESHOLD: probability(0.5),
  /** Hysteresis: an at-risk customer recovers only below this (and with no open complaint, not a detractor). */
  RISK_RECOVERY_THRESHOLD: probability(0.4),
  /** The lowest value tier the scoring path watches. */
  RISK_MIN_TIER: z.enum(VALUE_TIERS).default('iron'),
  /** The lowest value tier for which a complaint or a detractor response alone means at risk (the real-time path). */
  RISK_REALTIME_MIN_TIER: z.enum(VALUE_TIERS).default('gold'),
  /** CSAT (% satisfied) below this adds the low_csat driver. */
  RISK_LOW_CSAT: z.coerce.number().min(0).max(100).default(50),
  /** Send the at-risk entries of an installation's first run (its baseline); by default they are only recorded. */
  RISK_ALERT_ON_BASELINE: setting.boolean(false),
};

/** Checks across settings, for every schema that includes scoringParameterSettings. */
export function checkRiskThresholds(
  p: { RISK_RECOVERY_THRESHOLD: number; RISK_CHURN_THRESHOLD: number; SCORING_STAGE_HYSTERESIS: number; SCORING_AT_RISK_THRESHOLD: number },
  ctx: z.RefinementCtx,
): void {
  if (p.SCORING_STAGE_HYSTERESIS >= p.SCORING_AT_RISK_THRESHOLD) {
    ctx.addIssue({ code: 'custom', path: ['SCORING_STAGE_HYSTERESIS'], message: 'must be below SCORING_AT_RISK_THRESHOLD' });
  }
  if (p.RISK_RECOVERY_THRESHOLD >= p.RISK_CHURN_THRESHOLD) {
    ctx.addIssue({
      code: 'custom',
      path: ['RISK_RECOVERY_THRESHOLD'],
      message: 'must be below RISK_CHURN_THRESHOLD (hysteresis needs a lower recovery threshold)',
    });
  }
}

const parametersSchema = z.object(scoringParameterSettings).superRefine(checkRiskThresholds);

export interface ScoringParameters {
  windowDays: number;
  newCustomerDays: number;
  reactivationDays: number;
  churnThreshold: number;
  atRiskThreshold: number;
  stageHysteresis: number;
  npsWindowDays: number;
  refitIntervalSeconds: number;
  refitOnGrowth: number;
  clvMargin: number;
  clvAnnualDiscountRate: number;
  risk: RiskRules;
}

export interface RiskRules {
  churnThreshold: number;
  recoveryThreshold: number;
  minTier: (typeof VALUE_TIERS)[number];
  realtimeMinTier: (typeof VALUE_TIERS)[number];
  lowCsat: number;
  alertOnBaseline: boolean;
}

type ParameterSettings = z.infer<typeof parametersSchema>;

export function scoringParameters(config: ParameterSettings): ScoringParameters {
  return Object.freeze({
    windowDays: config.SCORING_WINDOW_DAYS,
    newCustomerDays: config.SCORING_NEW_CUSTOMER_DAYS,
    reactivationDays: config.SCORING_REACTIVATION_DAYS,
    churnThreshold: config.SCORING_CHURN_THRESHOLD,
    atRiskThreshold: config.SCORING_AT_RISK_THRESHOLD,
    stageHysteresis: config.SCORING_STAGE_HYSTERESIS,
    npsWindowDays: config.SCORING_NPS_WINDOW_DAYS,
    refitIntervalSeconds: config.SCORING_REFIT_INTERVAL,
    refitOnGrowth: config.SCORING_REFIT_ON_GROWTH,
    clvMargin: config.CLV_MARGIN,
    clvAnnualDiscountRate: config.CLV_ANNUAL_DISCOUNT_RATE,
    risk: Object.freeze({
      churnThreshold: config.RISK_CHURN_THRESHOLD,
      recoveryThreshold: config.RISK_RECOVERY_THRESHOLD,
      minTier: config.RISK_MIN_TIER,
      realtimeMinTier: config.RISK_REALTIME_MIN_TIER,
      lowCsat: config.RISK_LOW_CSAT,
      alertOnBaseline: config.RISK_ALERT_ON_BASELINE,
    }),
  });
}

/** The parameters from the environment alone (for `crm score`), every problem reported together. */
export function loadScoringParameters(env: Env = process.env): ScoringParameters {
  return scoringParameters(loadConfig(parametersSchema, env));
}

export const DEFAULT_SCORING_PARAMETERS: ScoringParameters = loadScoringParameters({});
