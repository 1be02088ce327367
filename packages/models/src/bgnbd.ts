/**
 * BG/NBD — Fader, Hardie & Lee (2005), "Counting your customers the easy way:
 * an alternative to the Pareto/NBD model", Marketing Science 24(2).
 *
 * A customer can drop out only right after a repeat purchase, so a customer
 * with no repeat purchase (x = 0) is alive for sure (P(alive) = 1).
 *
 *   L = Γ(r+x) α^r / Γ(r) · B(a, b+x) / B(a, b) · [(α+T)^{−(r+x)} + δ_{x>0} a/(b+x−1) (α+t_x)^{−(r+x)}]
 */
import { digamma, logGamma } from './special-functions.js';
import {
  fitTransactionModel,
  transactionExpectedPurchases,
  transactionLogLikelihood,
  transactionProbabilityAlive,
  type CustomerGroup,
  type CustomerSummary,
  type TransactionFit,
  type TransactionFitOptions,
  type TransactionModelSpec,
  type TransactionParams,
} from './transaction-model.js';

export type BgnbdParams = TransactionParams;

export const bgnbdSpec: TransactionModelSpec = {
  model: 'bgnbd',
  logCommon({ r, alpha, a, b }, x) {
    return (
      logGamma(r + x) - logGamma(r) + r * Math.log(alpha) + logGamma(a + b) + logGamma(b + x) - logGamma(b) - logGamma(a + b + x)
    );
  },
  logDropout({ a, b }, x) {
    return x > 0 ? Math.log(a) - Math.log(b + x - 1) : Number.NEGATIVE_INFINITY;
  },
  logCommonGradient({ r, alpha, a, b }, x) {
    const abx = digamma(a + b + x);
    return [
      digamma(r + x) - digamma(r) + Math.log(alpha),
      r / alpha,
      digamma(a + b) - abx,
      digamma(a + b) + digamma(b + x) - digamma(b) - abx,
    ];
  },
  logDropoutGradient({ a, b }, x) {
    return x > 0 ? [1 / a, -1 / (b + x - 1)] : [0, 0];
  },
  betaOffset: 0,
};

/** Maximum-likelihood BG/NBD fit over grouped (x, t_x, T, count) rows. */
export function fitBgnbd(groups: readonly CustomerGroup[], options?: TransactionFitOptions): TransactionFit {
  return fitTransactionModel(bgnbdSpec, groups, options);
}

/** ln L(r, α, a, b | x, t_x, T) of one customer. */
export function bgnbdLogLikelihood(params: BgnbdParams, customer: CustomerSummary): number {
  return transactionLogLikelihood(bgnbdSpec, params, customer);
}

/** P(alive at T | x, t_x, T) = 1 / (1 + δ_{x>0} a/(b+x−1) ((α+T)/(α+t_x))^{r+x}). */
export function bgnbdProbabilityAlive(params: BgnbdParams, customer: CustomerSummary): number {
  return transactionProbabilityAlive(bgnbdSpec, params, customer);
}

/**
 * E[X(T, T+t] | x, t_x, T] (FHL 2005, eq. 10):
 * (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^{r+x} 2F1(r+x, b+x; a+b+x−1; t/(α+T+t))] · P(alive).
 */
export function bgnbdExpectedPurchases(params: BgnbdParams, customer: CustomerSummary, t: number): number {
  return transactionExpectedPurchases(bgnbdSpec, params, customer, t);
}

/**
 * E[X(t)] for a customer who has just made the first purchase (FHL 2005, eq. 9):
 * (a+b−1)/(a−1) · [1 − (α/(α+t))^r 2F1(r, b; a+b−1; t/(α+t))].
 */
export function bgnbdExpectedPurchasesNewCustomer(params: BgnbdParams, t: number): number {
  return transactionExpectedPurchases(bgnbdSpec, params, { x: 0, t_x: 0, T: 0 }, t);
}
