/**
 * Special functions the customer-base models need, in plain double precision:
 * log-gamma, log-beta, log-sum-exp and the Gauss hypergeometric function 2F1.
 * Everything that can overflow is done in log space; a routine that cannot
 * reach full precision throws a ModelError (NUMERIC_FAILURE) instead of
 * returning a wrong number.
 */
import { ModelError } from './errors.js';

// Lanczos approximation with g = 671/128 and 14 coefficients (Numerical Recipes,
// 3rd ed., §6.1, `gammln`): relative error of Γ below 1e-15 for x > 0.
const LANCZOS_G = 671 / 128;
const LANCZOS_COEFFICIENTS = [
  57.1562356658629235, -59.5979603554754912, 14.1360979747417471, -0.491913816097620199,
  0.339946499848118887e-4, 0.465236289270485756e-4, -0.983744753048795646e-4, 0.158088703224912494e-3,
  -0.210264441724104883e-3, 0.217439618115212643e-3, -0.164318106536763890e-3, 0.844182239838527433e-4,
  -0.261908384015814087e-4, 0.368991826595316234e-5,
] as const;
const LANCZOS_C0 = 0.999999999999997092;
const SQRT_2PI = 2.5066282746310005;

function isNonPositiveInteger(x: number): boolean {
  return x <= 0 && Number.isInteger(x);
}

/** sin(πx), exact at integers and accurate for large |x|. */
function sinPi(x: number): number {
  let r = x % 2;
  if (r < 0) r += 2;
  let sign = 1;
  if (r >= 1) {
    r -= 1;
    sign = -1;
  }
  if (r > 0.5) r = 1 - r;
  return sign * Math.sin(Math.PI * r);
}

/**
 * ln|Γ(x)|. +Infinity at the poles (x = 0, −1, −2, …); negative non-integer x
 * via the reflection formula. Relative error about 1e-15 away from the zeros
 * at x = 1 and x = 2 (absolute error about 1e-15 there).
 */
export function logGamma(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  if (isNonPositiveInteger(x)) return Number.POSITIVE_INFINITY;
  if (x < 0.5) {
    // Γ(x)Γ(1−x) = π / sin(πx)
    return Math.log(Math.PI / Math.abs(sinPi(x))) - logGamma(1 - x);
  }
  if (x === 1 || x === 2) return 0;
  let y = x;
  const tmp = x + LANCZOS_G;
  const head = (x + 0.5) * Math.log(tmp) - tmp;
  let series = LANCZOS_C0;
  for (const c of LANCZOS_COEFFICIENTS) series += c / ++y;
  return head + Math.log((SQRT_2PI * series) / x);
}

/**
 * ψ(x) = d/dx ln Γ(x): recurrence up to x ≥ 10, then the asymptotic series
 * (error below 1e-16 there); reflection for negative non-integer x.
 */
export function digamma(x: number): number {
  if (Number.isNaN(x) || isNonPositiveInteger(x)) return Number.NaN;
  if (x === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  if (x < 0) return digamma(1 - x) - Math.PI / Math.tan(Math.PI * x);
  let shift = 0;
  while (x < 10) {
    shift -= 1 / x;
    x += 1;
  }
  const f = 1 / (x * x);
  const tail =
    f * (-1 / 12 + f * (1 / 120 + f * (-1 / 252 + f * (1 / 240 + f * (-1 / 132 + f * (691 / 32760 + f * (-1 / 12)))))));
  return shift + Math.log(x) - 0.5 / x + tail;
}

/** The sign of Γ(x): +1 for x > 0, alternating between the poles for x < 0; NaN at a pole. */
export function gammaSign(x: number): number {
  if (x > 0) return 1;
  if (isNonPositiveInteger(x) || Number.isNaN(x)) return Number.NaN;
  return Math.floor(x) % 2 === 0 ? 1 : -1;
}

/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b), for a, b > 0. */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** ln(e^a + e^b) without overflow; −Infinity stands for a zero term. */
export function logAddExp(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b;
  if (b === Number.NEGATIVE_INFINITY) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/** ln Σ e^{v_i} without overflow; −Infinity for an empty list. */
export function logSumExp(values: readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > max) max = v;
  if (max === Number.NEGATIVE_INFINITY || !Number.isFinite(max)) return max;
  let sum = 0;
  for (const v of values) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

export interface Hyp2f1Options {
  /** Most series terms summed before giving up (default 1 000 000). */
  maxTerms?: number;
  /** Relative size of the neglected tail at which a series stops (default 1e-16). */
  tolerance?: number;
}

const DEFAULT_MAX_TERMS = 1_000_000;
const DEFAULT_TOLERANCE = 1e-16;
/** Above this z the 1 − z connection formula is tried before the direct series. */
const CONNECTION_THRESHOLD = 0.9;
/** c − a − b closer than this to an integer makes the connection formula lose digits. */
const NEAR_INTEGER = 1e-2;

function failure(message: string): ModelError {
  return new ModelError('NUMERIC_FAILURE', message);
}

/**
 * Σ_n (a)_n (b)_n / ((c)_n n!) z^n for 0 ≤ z < 1 (or a terminating series),
 * stopped when the remaining tail, bounded by a geometric series with the
 * current term ratio, is below `tolerance` relative to the sum.
 */
export function hyp2f1Series(a: number, b: number, c: number, z: number, options: Hyp2f1Options = {}): number {
  const maxTerms = options.maxTerms ?? DEFAULT_MAX_TERMS;
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  // Past this index no Pochhammer factor changes sign any more.
  const settled = Math.max(0, -a, -b, -c) + 1;
  let term = 1;
  let sum = 1;
  let quiet = 0;
  for (let n = 0; n < maxTerms; n++) {
    const ratio = (((a + n) * (b + n)) / ((c + n) * (n + 1))) * z;
    term *= ratio;
    sum += term;
    if (term === 0) return sum; // terminating series (a or b a non-positive integer)
    if (!Number.isFinite(sum)) {
      throw failure(`2F1(${a}, ${b}; ${c}; ${z}): the series overflowed after ${n + 1} terms`);
    }
    if (n + 1 < settled) continue;
    const rho = Math.max(Math.abs(ratio), Math.abs(z));
    const small = Math.abs(term) <= tolerance * Math.abs(sum);
    if (small && rho < 1 && (Math.abs(term) * rho) / (1 - rho) <= tolerance * Math.abs(sum)) {
      if (++quiet >= 3) return sum;
    } else {
      quiet = 0;
    }
  }
  throw failure(`2F1(${a}, ${b}; ${c}; ${z}): the series did not converge in ${maxTerms} terms`);
}

/** Π Γ(numerators) / Π Γ(denominators); 0 if a denominator sits on a pole. */
function gammaRatio(numerators: readonly number[], denominators: readonly number[]): number {
  let logValue = 0;
  let sign = 1;
  for (const d of denominators) {
    if (isNonPositiveInteger(d)) return 0;
    logValue -= logGamma(d);
    sign *= gammaSign(d);
  }
  for (const n of numerators) {
    if (isNonPositiveInteger(n)) return Number.NaN;
    logValue += logGamma(n);
    sign *= gammaSign(n);
  }
  return sign * Math.exp(logValue);
}

/**
 * 2F1 via the linear transformation z → 1 − z (Abramowitz & Stegun 15.3.6);
 * undefined (NaN) when it would lose too many digits, so that the caller
 * falls back to the direct series.
 */
function hyp2f1Connection(a: number, b: number, c: number, z: number, options: Hyp2f1Options): number {
  const m = c - a - b;
  if (Math.abs(m - Math.round(m)) < NEAR_INTEGER) return Number.NaN;
  const w = 1 - z;
  const g1 = gammaRatio([c, m], [c - a, c - b]);
  const g2 = gammaRatio([c, -m], [a, b]);
  if (!Number.isFinite(g1) || !Number.isFinite(g2)) return Number.NaN;
  const t1 = g1 === 0 ? 0 : g1 * hyp2f1Series(a, b, 1 - m, w, options);
  const t2 = g2 === 0 ? 0 : g2 * Math.exp(m * Math.log(w)) * hyp2f1Series(c - a, c - b, m + 1, w, options);
  const value = t1 + t2;
  if (!Number.isFinite(value)) return Number.NaN;
  // Heavy cancellation between the two branches: too few correct digits left.
  if (Math.abs(value) < 1e-6 * Math.max(Math.abs(t1), Math.abs(t2))) return Number.NaN;
  return value;
}

/**
 * The Gauss hypergeometric function 2F1(a, b; c; z) for real a, b, c and z ≤ 1.
 *
 * - z < 0: Pfaff's transformation maps it onto [0, 1).
 * - 0 ≤ z ≤ 0.9: the power series, after Euler's transformation when that
 *   makes the terms decay faster (a + b > c).
 * - 0.9 < z < 1: the 1 − z connection formula when c − a − b is not close to
 *   an integer, otherwise the power series (slow as z → 1: about
 *   ln(1e-16)/ln(z) terms).
 * - z = 1: Gauss's theorem when c − a − b > 0.
 *
 * Throws ModelError NUMERIC_FAILURE when the value does not exist (z > 1,
 * divergence at z = 1, c a non-positive integer) or cannot be computed to full
 * precision within `maxTerms` terms.
 */
export function hyp2f1(a: number, b: number, c: number, z: number, options: Hyp2f1Options = {}): number {
  if (![a, b, c, z].every(Number.isFinite)) {
    throw failure(`2F1(${a}, ${b}; ${c}; ${z}): arguments must be finite numbers`);
  }
  if (z === 0 || a === 0 || b === 0) return 1;
  const terminating = isNonPositiveInteger(a) || isNonPositiveInteger(b);
  if (isNonPositiveInteger(c) && !(terminating && Math.max(a, b) > c)) {
    throw failure(`2F1(${a}, ${b}; ${c}; ${z}): c is a non-positive integer`);
  }
  if (z > 1) throw failure(`2F1(${a}, ${b}; ${c}; ${z}): z > 1 lies on the branch cut`);
  if (terminating) return hyp2f1Series(a, b, c, z, { ...options, maxTerms: Math.ceil(-Math.max(...[a, b].filter(isNonPositiveInteger))) + 2 });
  if (z === 1) {
    if (c - a - b <= 0) throw failure(`2F1(${a}, ${b}; ${c}; 1) diverges (c − a − b ≤ 0)`);
    return gammaRatio([c, c - a - b], [c - a, c - b]);
  }
  if (z < 0) {
    // Pfaff: 2F1(a,b;c;z) = (1−z)^{−a} 2F1(a, c−b; c; z/(z−1)) = (1−z)^{−b} 2F1(c−a, b; c; z/(z−1)).
    const w = z / (z - 1);
    const log1mz = Math.log1p(-z);
    // Prefer the variant whose upper parameters keep the terms of one sign.
    if (Math.min(a, c - b) >= Math.min(c - a, b)) return Math.exp(-a * log1mz) * hyp2f1(a, c - b, c, w, options);
    return Math.exp(-b * log1mz) * hyp2f1(c - a, b, c, w, options);
  }
  if (z > CONNECTION_THRESHOLD) {
    const value = hyp2f1Connection(a, b, c, z, options);
    if (!Number.isNaN(value)) return value;
  }
  if (a + b > c) {
    // Euler: 2F1(a,b;c;z) = (1−z)^{c−a−b} 2F1(c−a, c−b; c; z).
    return Math.exp((c - a - b) * Math.log1p(-z)) * hyp2f1Series(c - a, c - b, c, z, options);
  }
  return hyp2f1Series(a, b, c, z, options);
}
