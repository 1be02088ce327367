/**
 * MBG/NBD — Batislam, Denizel & Filiztekin (2007), "Empirical validation and
 * comparison of models for customer base analysis", IJRM 24(3).
 *
 * Like BG/NBD, but a customer may also drop out right after the first
 * purchase (at time 0), so one-time buyers can lapse: P(alive | x = 0) < 1.
 *
 *   L = Γ(r+x) α^r / Γ(r) · B(a, b+x+1) / B(a, b) · [(α+T)^{−(r+x)} + a/(b+x) (α+t_x)^{−(r+x)}]
 *
 * (individually: alive at T with probability (1−p)^{x+1}, or dropped out right
 * after the purchase at t_x with probability p(1−p)^x; integrating p over
 * Beta(a, b) gives the two Beta-function ratios, B(a+1, b+x) = B(a, b+x+1)·a/(b+x)).
 */
import { digamma, logGamma } from './special-functions.js';
import {
  fitTransactionModel,
  transactionExpectedPurchases,
  transactionExpectedPurchasesIfAlive,
  transactionLogLikelihood,
  transactionProbabilityAlive,
  type CustomerGroup,
  type CustomerSummary,
  type TransactionFit,
  type TransactionFitOptions,
  type TransactionModelSpec,
  type TransactionParams,
} from './transaction-model.js';

export type MbgnbdParams = TransactionParams;

export const mbgnbdSpec: TransactionModelSpec = {
  model: 'mbgnbd',
  logCommon({ r, alpha, a, b }, x) {
    return (
      logGamma(r + x) -
      logGamma(r) +
      r * Math.log(alpha) +
      logGamma(a + b) +
      logGamma(b + x + 1) -
      logGamma(b) -
      logGamma(a + b + x + 1)
    );
  },
  logDropout({ a, b }, x) {
    return Math.log(a) - Math.log(b + x);
  },
  logCommonGradient({ r, alpha, a, b }, x) {
    const abx = digamma(a + b + x + 1);
    return [
      digamma(r + x) - digamma(r) + Math.log(alpha),
      r / alpha,
      digamma(a + b) - abx,
      digamma(a + b) + digamma(b + x + 1) - digamma(b) - abx,
    ];
  },
  logDropoutGradient({ a, b }, x) {
    return [1 / a, -1 / (b + x)];
  },
  betaOffset: 1,
};

/** Maximum-likelihood MBG/NBD fit over grouped (x, t_x, T, count) rows. */
export function fitMbgnbd(groups: readonly CustomerGroup[], options?: TransactionFitOptions): TransactionFit {
  return fitTransactionModel(mbgnbdSpec, groups, options);
}

/** ln L(r, α, a, b | x, t_x, T) of one customer. */
export function mbgnbdLogLikelihood(params: MbgnbdParams, customer: CustomerSummary): number {
  return transactionLogLikelihood(mbgnbdSpec, params, customer);
}

/** P(alive at T | x, t_x, T) = 1 / (1 + a/(b+x) ((α+T)/(α+t_x))^{r+x}). */
export function mbgnbdProbabilityAlive(params: MbgnbdParams, customer: CustomerSummary): number {
  return transactionProbabilityAlive(mbgnbdSpec, params, customer);
}

/**
 * E[X(T, T+t] | x, t_x, T] (Batislam et al. 2007):
 * (a+b+x)/(a−1) · [1 − ((α+T)/(α+T+t))^{r+x} 2F1(r+x, b+x+1; a+b+x; t/(α+T+t))] · P(alive).
 */
export function mbgnbdExpectedPurchases(params: MbgnbdParams, customer: CustomerSummary, t: number): number {
  return transactionExpectedPurchases(mbgnbdSpec, params, customer, t);
}

/** E[X(T, T+t] | alive at T, x, t_x, T]: the expected purchases if the customer is still alive (no P(alive) factor). */
export function mbgnbdExpectedPurchasesIfAlive(params: MbgnbdParams, customer: CustomerSummary, t: number): number {
  return transactionExpectedPurchasesIfAlive(mbgnbdSpec, params, customer, t);
}

/**
 * E[X(t)] for a customer who has just made the first purchase:
 * b/(a−1) · [1 − (α/(α+t))^r 2F1(r, b+1; a+b; t/(α+t))].
 */
export function mbgnbdExpectedPurchasesNewCustomer(params: MbgnbdParams, t: number): number {
  return transactionExpectedPurchases(mbgnbdSpec, params, { x: 0, t_x: 0, T: 0 }, t);
}
