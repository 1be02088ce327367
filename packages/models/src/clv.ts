/**
 * clv_12m exactly as DESIGN.md ("Metric definitions") defines it:
 *
 *   Σ_{m=1..12} (E[purchases by 30m days] − E[purchases by 30(m−1) days]) × E[value] × margin / (1 + d)^m,
 *   d = (1 + annual_discount_rate)^(1/12) − 1,
 *
 * with E[value] from Gamma-Gamma (its population mean for x = 0) and defaults
 * margin 1.0 and annual rate 10 %.
 *
 * Choice of purchase-count model: the expected purchases are the MBG/NBD
 * conditional expectation E[X(t) | x, t_x, T] (the same model the contract
 * uses for p_alive, so a customer's CLV and churn probability agree: a
 * one-time buyer can lapse and is worth less the longer ago the purchase was).
 * Time is in days; "month" m covers days (30(m−1), 30m] after T.
 */
import { ModelError } from './errors.js';
import { gammaGammaExpectedValue, type GammaGammaParams } from './gamma-gamma.js';
import { mbgnbdExpectedPurchases, type MbgnbdParams } from './mbgnbd.js';
import type { CustomerSummary } from './transaction-model.js';

export interface ClvOptions {
  /** Profit margin applied to the expected value (default 1.0). */
  margin?: number;
  /** Annual discount rate (default 0.10). */
  annualDiscountRate?: number;
}

export const CLV_MONTHS = 12;
export const DAYS_PER_MONTH = 30;

/** d = (1 + annual)^(1/12) − 1. */
export function monthlyDiscountRate(annualDiscountRate: number): number {
  if (!Number.isFinite(annualDiscountRate) || annualDiscountRate <= -1) {
    throw new ModelError('INVALID_INPUT', `annual discount rate ${annualDiscountRate}: must be a finite number > −1`);
  }
  return Math.pow(1 + annualDiscountRate, 1 / 12) - 1;
}

/**
 * The discounted sum for any cumulative expected-purchases curve
 * `expectedByDay(t)` (E[purchases in the next t days], expectedByDay(0) = 0).
 */
export function clv12mFromExpectedPurchases(
  expectedByDay: (days: number) => number,
  expectedValue: number,
  options: ClvOptions = {},
): number {
  const margin = options.margin ?? 1.0;
  if (!Number.isFinite(margin)) throw new ModelError('INVALID_INPUT', `margin ${margin}: must be a finite number`);
  if (!Number.isFinite(expectedValue)) throw new ModelError('INVALID_INPUT', `expected value ${expectedValue}: must be finite`);
  const d = monthlyDiscountRate(options.annualDiscountRate ?? 0.1);
  let total = 0;
  let previous = 0;
  for (let m = 1; m <= CLV_MONTHS; m++) {
    const cumulative = expectedByDay(DAYS_PER_MONTH * m);
    total += ((cumulative - previous) * expectedValue * margin) / Math.pow(1 + d, m);
    previous = cumulative;
  }
  return total;
}

export interface ClvCustomer extends CustomerSummary {
  /** Mean value of the repeat purchase days; required when x ≥ 1. */
  mbar?: number;
}

/**
 * clv_12m of one customer from fitted MBG/NBD (days) and Gamma-Gamma
 * parameters; see the module comment for the definition.
 */
export function clv12m(
  params: { mbgnbd: MbgnbdParams; gammaGamma: GammaGammaParams },
  customer: ClvCustomer,
  options: ClvOptions = {},
): number {
  const value = gammaGammaExpectedValue(params.gammaGamma, customer.x, customer.mbar);
  const summary: CustomerSummary = { x: customer.x, t_x: customer.t_x, T: customer.T };
  return clv12mFromExpectedPurchases((days) => mbgnbdExpectedPurchases(params.mbgnbd, summary, days), value, options);
}
