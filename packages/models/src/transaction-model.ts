/**
 * What BG/NBD and MBG/NBD share: customer summaries (x, t_x, T), grouping,
 * the grouped maximum-likelihood fit, P(alive) and the conditional expected
 * number of purchases. Each model only supplies the two x-dependent pieces of
 * its likelihood (see TransactionModelSpec); bgnbd.ts and mbgnbd.ts hold them.
 *
 * Both models: while alive a customer buys as a Poisson process with rate λ,
 * λ ~ Gamma(shape r, rate α) across customers; after a purchase the customer
 * drops out with probability p, p ~ Beta(a, b). x = number of repeat
 * purchases, t_x = time of the last one, T = time since the first purchase,
 * all measured from the first purchase (the pipeline uses days).
 */
import { ModelError } from './errors.js';
import { logScaleStandardErrors, minimizeLogParameters, numericalHessianFromGradient, type Optimizer } from './optimize.js';
import { hyp2f1 } from './special-functions.js';

/** One customer's purchase history summary. */
export interface CustomerSummary {
  /** Repeat purchases (purchase days − 1), a non-negative integer. */
  x: number;
  /** Time from the first to the last purchase (0 when x = 0). */
  t_x: number;
  /** Time from the first purchase to the end of observation; T ≥ t_x. */
  T: number;
}

/** Identical (x, t_x, T) triples grouped; `count` defaults to 1. */
export interface CustomerGroup extends CustomerSummary {
  count?: number;
}

export interface TransactionParams {
  /** Gamma shape of the purchase rate λ. */
  r: number;
  /** Gamma rate (a time scale: same unit as t_x and T) of λ. */
  alpha: number;
  /** Beta parameters of the dropout probability p. */
  a: number;
  b: number;
}

export type TransactionModelName = 'bgnbd' | 'mbgnbd';

export interface TransactionFitOptions {
  /** Nelder–Mead iteration budget (default 10 000). */
  maxIterations?: number;
  /** Starting point (default: a few generic guesses, the best one is used). */
  initial?: TransactionParams;
  /**
   * Compute standard errors from the numerical Hessian (default true). The fit
   * then also throws NOT_IDENTIFIABLE when the Hessian is not positive
   * definite (a flat or saddle optimum) or a parameter's log has a standard
   * error above 10 (a nearly flat ridge): skip this to get the raw optimum.
   * 'when-identified': report them where they exist and never throw for them.
   */
  standardErrors?: boolean | 'when-identified';
  /** 'bfgs' (default; analytic gradient, Nelder–Mead as fallback) or 'nelder-mead'. */
  optimizer?: Optimizer;
}

export interface TransactionFit {
  model: TransactionModelName;
  params: TransactionParams;
  /** Total log-likelihood Σ count · LL(x, t_x, T) in the input's time unit. */
  logLikelihood: number;
  iterations: number;
  evaluations: number;
  /** Number of customers (Σ count). */
  customers: number;
  /** Number of distinct input rows used. */
  groups: number;
  /** Asymptotic standard errors (inverse Hessian, delta method); absent when not requested. */
  standardErrors?: TransactionParams;
}

/** The model-specific parts of ln L(r, α, a, b | x, t_x, T). */
export interface TransactionModelSpec {
  model: TransactionModelName;
  /**
   * The part that depends on x only:
   * ln L = logCommon + ln[(α+T)^{−(r+x)} + e^{logDropout} (α+t_x)^{−(r+x)}].
   */
  logCommon(params: TransactionParams, x: number): number;
  /** ln of the weight of the "dropped out after the last purchase" term; −Infinity when there is none. */
  logDropout(params: TransactionParams, x: number): number;
  /** ∂ logCommon / ∂(r, α, a, b). */
  logCommonGradient(params: TransactionParams, x: number): readonly [number, number, number, number];
  /** ∂ logDropout / ∂(a, b) (zeros when there is no dropout term). */
  logDropoutGradient(params: TransactionParams, x: number): readonly [number, number];
  /** An alive customer's dropout probability has posterior Beta(a, b + x + betaOffset). */
  betaOffset: 0 | 1;
}

const PARAM_NAMES = ['r', 'alpha', 'a', 'b'] as const;
/** |ln θ| beyond this (in the fit's internal units) means the optimum sits on the boundary. */
const BOUNDARY_LOG_PARAM = 20;
/** A standard error of ln θ above this (θ uncertain by a factor e^10) means θ is not identified. */
const MAX_LOG_STANDARD_ERROR = 10;
/** The objective is +∞ beyond this, so the simplex cannot run away for ever. */
const WALL_LOG_PARAM = 50;

function describe(row: CustomerSummary): string {
  return `{x: ${row.x}, t_x: ${row.t_x}, T: ${row.T}}`;
}

/** Throws INVALID_INPUT unless the row is a possible (x, t_x, T). */
export function validateCustomer(row: CustomerSummary, where = 'customer'): void {
  const { x, t_x, T } = row;
  if (!Number.isInteger(x) || x < 0) throw new ModelError('INVALID_INPUT', `${where} ${describe(row)}: x must be a non-negative integer`);
  if (!Number.isFinite(t_x) || t_x < 0) throw new ModelError('INVALID_INPUT', `${where} ${describe(row)}: t_x must be a finite number ≥ 0`);
  if (!Number.isFinite(T) || T < t_x) throw new ModelError('INVALID_INPUT', `${where} ${describe(row)}: T must be a finite number ≥ t_x`);
  if (x === 0 && t_x !== 0) throw new ModelError('INVALID_INPUT', `${where} ${describe(row)}: t_x must be 0 when x = 0`);
}

export function validateTransactionParams(params: TransactionParams): void {
  for (const name of PARAM_NAMES) {
    const v = params[name];
    if (!Number.isFinite(v) || v <= 0) {
      throw new ModelError('INVALID_PARAMETERS', `parameter ${name} = ${v}: every parameter must be a finite number > 0`);
    }
  }
}

/** Groups identical (x, t_x, T) rows, summing their counts (default 1 each). */
export function groupCustomers(rows: readonly CustomerGroup[]): CustomerGroup[] {
  const groups = new Map<string, CustomerGroup>();
  for (const row of rows) {
    const key = `${row.x}|${row.t_x}|${row.T}`;
    const count = row.count ?? 1;
    const group = groups.get(key);
    if (group) group.count = (group.count ?? 1) + count;
    else groups.set(key, { x: row.x, t_x: row.t_x, T: row.T, count });
  }
  return [...groups.values()];
}

function logOddsDead(spec: TransactionModelSpec, params: TransactionParams, c: CustomerSummary): number {
  const { r, alpha } = params;
  // ln[(α+T)/(α+t_x)] written so that it stays exact when T − t_x is small.
  return spec.logDropout(params, c.x) + (r + c.x) * Math.log1p((c.T - c.t_x) / (alpha + c.t_x));
}

/** ln L(params | x, t_x, T) for one customer. */
export function transactionLogLikelihood(spec: TransactionModelSpec, params: TransactionParams, c: CustomerSummary): number {
  validateTransactionParams(params);
  validateCustomer(c);
  const s = params.r + c.x;
  const alive = -s * Math.log(params.alpha + c.T);
  const dead = spec.logDropout(params, c.x) - s * Math.log(params.alpha + c.t_x);
  const m = Math.max(alive, dead);
  return spec.logCommon(params, c.x) + m + Math.log1p(Math.exp(Math.min(alive, dead) - m));
}

/** P(customer still alive at T | x, t_x, T). */
export function transactionProbabilityAlive(spec: TransactionModelSpec, params: TransactionParams, c: CustomerSummary): number {
  validateTransactionParams(params);
  validateCustomer(c);
  const k = logOddsDead(spec, params, c);
  return k > 0 ? Math.exp(-k) / (1 + Math.exp(-k)) : 1 / (1 + Math.exp(k));
}

/** φ(ε, L) = (1 − e^{εL}) / ε, with its limit −L at ε = 0. */
function oneMinusExpOverEpsilon(epsilon: number, logOneMinusZ: number): number {
  return epsilon === 0 ? -logOneMinusZ : -Math.expm1(epsilon * logOneMinusZ) / epsilon;
}

/**
 * E[(1 − e^{−λpt}) / p] for λ ~ Gamma(shape s, rate ρ) and p ~ Beta(a, β)
 * independent: the expected number of purchases in the next t of a customer
 * known to be alive now. In closed form (Fader, Hardie & Lee 2005, eq. 10,
 * after Euler's transformation of the 2F1, which removes the x-dependence of
 * its upper parameters):
 *
 *   C/(a−1) · [1 − (1−z)^{a−1} 2F1(C − s, a − 1; C; z)],  C = a + β − 1,  z = t/(ρ + t).
 *
 * For z ≤ 0.95, or a within 1e-3 of 1, it is evaluated as
 *   C·(1 − (1−z)^ε)/ε − (1−z)^ε · Σ_{n≥1} (C−s)_n (1+ε)_{n−1} / ((C+1)_{n−1} n!) z^n,  ε = a − 1,
 * which is the same function written without the removable singularity at a = 1.
 */
export function expectedPurchasesWhileAlive(s: number, rho: number, a: number, beta: number, t: number): number {
  if (!(t >= 0) || !Number.isFinite(t)) throw new ModelError('INVALID_INPUT', `horizon t = ${t}: must be a finite number ≥ 0`);
  if (t === 0) return 0;
  // A fit can put p's Beta near a point mass (a ≥ 1 and a + β in the hundreds or more: every
  // customer drops out alike). The closed form's terms then overflow or cancel while the
  // expectation is smooth, so it is integrated over p instead; likewise wherever the closed
  // form cannot be evaluated. (With a < 1 the series converges whatever β is.)
  if (a >= 1 && a + beta > LARGE_BETA_SIZE) return checkedExpectation(expectedPurchasesByQuadrature(s, rho, a, beta, t), s, rho, a, beta, t);
  let closed: number;
  try {
    closed = expectedPurchasesClosedForm(s, rho, a, beta, t);
  } catch (error) {
    if (!(error instanceof ModelError) || error.code !== 'NUMERIC_FAILURE') throw error;
    closed = Number.NaN;
  }
  if (Number.isFinite(closed) && closed >= -1e-9 * Math.max(1, a + beta)) return Math.max(0, closed);
  return checkedExpectation(expectedPurchasesByQuadrature(s, rho, a, beta, t), s, rho, a, beta, t);
}

function checkedExpectation(value: number, s: number, rho: number, a: number, beta: number, t: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new ModelError('NUMERIC_FAILURE', `expected purchases could not be evaluated (s=${s}, ρ=${rho}, a=${a}, β=${beta}, t=${t}): got ${value}`);
  }
  return value;
}

/** The closed form above; NaN or a ModelError where it cannot be evaluated. */
export function expectedPurchasesClosedForm(s: number, rho: number, a: number, beta: number, t: number): number {
  const z = t / (rho + t);
  const logOneMinusZ = -Math.log1p(t / rho);
  const epsilon = a - 1;
  const C = a + beta - 1;
  const c1 = C - s;
  let value: number;
  if (z <= 0.95 || Math.abs(epsilon) < 1e-3) {
    value = C * oneMinusExpOverEpsilon(epsilon, logOneMinusZ) - Math.exp(epsilon * logOneMinusZ) * tailSeries(c1, epsilon, C, z);
  } else {
    value = (C / epsilon) * (1 - Math.exp(epsilon * logOneMinusZ) * hyp2f1(c1, epsilon, C, z));
  }
  return value;
}

const LARGE_BETA_SIZE = 100;
const QUADRATURE_INTERVALS = 2000;

/**
 * E[g(p)] for p ~ Beta(a, β), g(p) = (1 − (1 + p t/ρ)^{−s}) / p (the expectation over
 * λ ~ Gamma(s, ρ) already in closed form), by Simpson's rule in u = logit p: there the
 * density is p^a (1 − p)^β, smooth and unimodal at u = ln(a/β) for every a, β > 0, with
 * tails falling like e^{a u} and e^{−β u}; the range reaches out to where the density is
 * e^{−45} of its peak, and the weights are normalised numerically (no Beta function).
 */
export function expectedPurchasesByQuadrature(s: number, rho: number, a: number, beta: number, t: number): number {
  const mode = Math.log(a / beta);
  const width = Math.sqrt(1 / a + 1 / beta);
  const logDensity = (u: number) => -a * softplus(-u) - beta * softplus(u);
  const peak = logDensity(mode);
  // Out from the peak until the density is e^{-45} of it: unimodal, so the first such point bounds the range.
  const edge = (direction: number) => {
    let step = width;
    while (logDensity(mode + direction * step) - peak > -45 && step < 1e4) step *= 1.5;
    return mode + direction * step;
  };
  const lo = edge(-1);
  const hi = edge(1);
  const h = (hi - lo) / QUADRATURE_INTERVALS;
  let weighted = 0;
  let total = 0;
  for (let i = 0; i <= QUADRATURE_INTERVALS; i++) {
    const u = lo + i * h;
    const w = (i === 0 || i === QUADRATURE_INTERVALS ? 1 : i % 2 === 1 ? 4 : 2) * Math.exp(logDensity(u) - peak);
    if (w === 0) continue;
    const p = Math.exp(-softplus(-u));
    // g's limit at p = 0 (reached when a < 1 spreads mass far into the left tail) is s·t/ρ.
    weighted += w * (p === 0 ? (s * t) / rho : -Math.expm1(-s * Math.log1p((p * t) / rho)) / p);
    total += w;
  }
  return weighted / total;
}

/** ln(1 + e^x) without overflow. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** Σ_{n≥1} h_n with h_1 = c1·z, h_{n+1} = h_n (c1+n)(ε+n) z / ((C+n)(n+1)). */
function tailSeries(c1: number, epsilon: number, C: number, z: number): number {
  const maxTerms = 2_000_000;
  let term = c1 * z;
  let sum = term;
  if (term === 0) return 0;
  const settled = Math.max(0, -c1, -epsilon) + 1;
  let quiet = 0;
  for (let n = 1; n < maxTerms; n++) {
    const ratio = (((c1 + n) * (epsilon + n)) / ((C + n) * (n + 1))) * z;
    term *= ratio;
    sum += term;
    if (term === 0) return sum;
    if (n < settled) continue;
    const rho = Math.max(Math.abs(ratio), z);
    // While terms still grow (ratio ≥ 1) no geometric bound holds: the tail is not small yet.
    const bound = rho < 1 ? (Math.abs(term) * rho) / (1 - rho) : Number.POSITIVE_INFINITY;
    if (bound <= 1e-16 * Math.max(Math.abs(sum), 1e-300)) {
      if (++quiet >= 3) return sum;
    } else {
      quiet = 0;
    }
  }
  throw new ModelError('NUMERIC_FAILURE', `the expected-purchases series did not converge in ${maxTerms} terms (z = ${z})`);
}

/** E[X(t) | x, t_x, T]: expected purchases in the next t for a customer with this history. */
export function transactionExpectedPurchases(
  spec: TransactionModelSpec,
  params: TransactionParams,
  c: CustomerSummary,
  t: number,
): number {
  const pAlive = transactionProbabilityAlive(spec, params, c);
  if (pAlive === 0 || t === 0) return 0;
  return pAlive * transactionExpectedPurchasesIfAlive(spec, params, c, t);
}

/** E[X(t) | alive at T, x, t_x, T]: the expected purchases in the next t of this customer if still alive. */
export function transactionExpectedPurchasesIfAlive(
  spec: TransactionModelSpec,
  params: TransactionParams,
  c: CustomerSummary,
  t: number,
): number {
  validateTransactionParams(params);
  validateCustomer(c);
  const { r, alpha, a, b } = params;
  return expectedPurchasesWhileAlive(r + c.x, alpha + c.T, a, b + c.x + spec.betaOffset, t);
}

interface CompiledData {
  groups: number;
  customers: number;
  /** Σ count · x */
  sumX: number;
  /** The time unit the fit works in (the customers' mean T), for conditioning. */
  timeScale: number;
  xValues: Float64Array;
  TValues: Float64Array;
  txValues: Float64Array;
  xIndex: Int32Array;
  TIndex: Int32Array;
  txIndex: Int32Array;
  counts: Float64Array;
  /** Σ count per distinct x. */
  countByX: Float64Array;
}

function compile(rows: readonly CustomerGroup[]): CompiledData {
  const kept: { row: CustomerGroup; count: number }[] = [];
  let customers = 0;
  let sumX = 0;
  let sumT = 0;
  rows.forEach((row, i) => {
    validateCustomer(row, `row ${i}`);
    const count = row.count ?? 1;
    if (!Number.isFinite(count) || count < 0) {
      throw new ModelError('INVALID_INPUT', `row ${i} ${describe(row)}: count ${count} must be a finite number ≥ 0`);
    }
    if (count === 0) return;
    kept.push({ row, count });
    customers += count;
    sumX += count * row.x;
    sumT += count * row.T;
  });
  if (kept.length === 0) throw new ModelError('NO_DATA', 'cannot fit a transaction model to no customers');
  if (sumX === 0) {
    throw new ModelError(
      'NOT_IDENTIFIABLE',
      `none of the ${customers} customers made a repeat purchase (all x = 0): purchase rate and dropout cannot be estimated`,
    );
  }
  const timeScale = sumT > 0 ? sumT / customers : 1;
  const index = (values: Map<number, number>, v: number): number => {
    let k = values.get(v);
    if (k === undefined) {
      k = values.size;
      values.set(v, k);
    }
    return k;
  };
  const xs = new Map<number, number>();
  const Ts = new Map<number, number>();
  const txs = new Map<number, number>();
  const n = kept.length;
  const data: CompiledData = {
    groups: n,
    customers,
    sumX,
    timeScale,
    xValues: new Float64Array(0),
    TValues: new Float64Array(0),
    txValues: new Float64Array(0),
    xIndex: new Int32Array(n),
    TIndex: new Int32Array(n),
    txIndex: new Int32Array(n),
    counts: new Float64Array(n),
    countByX: new Float64Array(0),
  };
  kept.forEach(({ row, count }, i) => {
    data.xIndex[i] = index(xs, row.x);
    data.TIndex[i] = index(Ts, row.T / timeScale);
    data.txIndex[i] = index(txs, row.t_x / timeScale);
    data.counts[i] = count;
  });
  data.xValues = Float64Array.from(xs.keys());
  data.countByX = new Float64Array(data.xValues.length);
  for (let i = 0; i < n; i++) {
    const k = data.xIndex[i] as number;
    data.countByX[k] = (data.countByX[k] as number) + (data.counts[i] as number);
  }
  data.TValues = Float64Array.from(Ts.keys());
  data.txValues = Float64Array.from(txs.keys());
  return data;
}

/**
 * Σ count · ln L over the compiled (time-scaled) data, and, when `gradient`
 * is given, its partial derivatives with respect to (r, α, a, b). Per group
 * this costs one exp and one log1p (none for a BG/NBD customer with x = 0);
 * the logs of α + T and α + t_x are shared by all groups with the same T or t_x.
 *
 * With A = −s ln(α+T), D = logDropout − s ln(α+t_x), s = r + x and
 * w = e^D / (e^A + e^D) (the posterior weight of "already dropped out"):
 *   ∂/∂r = ∂common/∂r − (1−w) ln(α+T) − w ln(α+t_x)
 *   ∂/∂α = ∂common/∂α − s [(1−w)/(α+T) + w/(α+t_x)]
 *   ∂/∂a = ∂common/∂a + w ∂logDropout/∂a,  likewise for b.
 */
function totalLogLikelihood(
  spec: TransactionModelSpec,
  data: CompiledData,
  params: TransactionParams,
  gradient?: number[],
): number {
  const { r, alpha } = params;
  const nx = data.xValues.length;
  const common = new Float64Array(nx);
  const dropout = new Float64Array(nx);
  const shape = new Float64Array(nx);
  for (let k = 0; k < nx; k++) {
    const x = data.xValues[k] as number;
    common[k] = spec.logCommon(params, x);
    dropout[k] = spec.logDropout(params, x);
    shape[k] = r + x;
  }
  const logT = data.TValues.map((T) => Math.log(alpha + T));
  const logTx = data.txValues.map((tx) => Math.log(alpha + tx));
  const { xIndex, TIndex, txIndex, counts } = data;
  let total = 0;
  if (!gradient) {
    for (let i = 0; i < data.groups; i++) {
      const k = xIndex[i] as number;
      const s = shape[k] as number;
      const alive = -s * (logT[TIndex[i] as number] as number);
      const dead = (dropout[k] as number) - s * (logTx[txIndex[i] as number] as number);
      const ll =
        dead === Number.NEGATIVE_INFINITY
          ? alive
          : alive > dead
            ? alive + Math.log1p(Math.exp(dead - alive))
            : dead + Math.log1p(Math.exp(alive - dead));
      total += (counts[i] as number) * ((common[k] as number) + ll);
    }
    return total;
  }
  const inverseT = data.TValues.map((T) => 1 / (alpha + T));
  const inverseTx = data.txValues.map((tx) => 1 / (alpha + tx));
  // Σ count · w per distinct x, for the a and b derivatives.
  const deadWeight = new Float64Array(nx);
  let dr = 0;
  let dAlpha = 0;
  for (let i = 0; i < data.groups; i++) {
    const k = xIndex[i] as number;
    const s = shape[k] as number;
    const ti = TIndex[i] as number;
    const txi = txIndex[i] as number;
    const count = counts[i] as number;
    const lt = logT[ti] as number;
    const alive = -s * lt;
    const dead = (dropout[k] as number) - s * (logTx[txi] as number);
    let ll: number;
    let w: number;
    if (dead === Number.NEGATIVE_INFINITY) {
      ll = alive;
      w = 0;
    } else if (alive > dead) {
      const e = Math.exp(dead - alive);
      ll = alive + Math.log1p(e);
      w = e / (1 + e);
    } else {
      const e = Math.exp(alive - dead);
      ll = dead + Math.log1p(e);
      w = 1 / (1 + e);
    }
    total += count * ((common[k] as number) + ll);
    if (w === 0) {
      dr -= count * lt;
      dAlpha -= count * s * (inverseT[ti] as number);
    } else {
      dr -= count * ((1 - w) * lt + w * (logTx[txi] as number));
      dAlpha -= count * s * ((1 - w) * (inverseT[ti] as number) + w * (inverseTx[txi] as number));
      deadWeight[k] = (deadWeight[k] as number) + count * w;
    }
  }
  let da = 0;
  let db = 0;
  for (let k = 0; k < nx; k++) {
    const x = data.xValues[k] as number;
    const n = data.countByX[k] as number;
    const [cr, cAlpha, ca, cb] = spec.logCommonGradient(params, x);
    dr += n * cr;
    dAlpha += n * cAlpha;
    da += n * ca;
    db += n * cb;
    const w = deadWeight[k] as number;
    if (w > 0) {
      const [pa, pb] = spec.logDropoutGradient(params, x);
      da += w * pa;
      db += w * pb;
    }
  }
  gradient[0] = dr;
  gradient[1] = dAlpha;
  gradient[2] = da;
  gradient[3] = db;
  return total;
}

function paramsFromLog(theta: readonly number[]): TransactionParams {
  return { r: Math.exp(theta[0] ?? 0), alpha: Math.exp(theta[1] ?? 0), a: Math.exp(theta[2] ?? 0), b: Math.exp(theta[3] ?? 0) };
}

/** Maximum-likelihood fit over grouped customers (see TransactionFit). */
export function fitTransactionModel(
  spec: TransactionModelSpec,
  rows: readonly CustomerGroup[],
  options: TransactionFitOptions = {},
): TransactionFit {
  const data = compile(rows);
  const scale = data.timeScale;
  // Objective: mean negative log-likelihood per customer over θ = ln(params), with its gradient.
  const paramGradient = [0, 0, 0, 0];
  const negativeTotal = (theta: readonly number[], gradient: number[]): number => {
    if (theta.some((v) => !(Math.abs(v) <= WALL_LOG_PARAM))) return Number.POSITIVE_INFINITY;
    const params = paramsFromLog(theta);
    const total = totalLogLikelihood(spec, data, params, paramGradient);
    const values = [params.r, params.alpha, params.a, params.b];
    for (let i = 0; i < 4; i++) gradient[i] = -(paramGradient[i] ?? 0) * (values[i] ?? 0);
    return Number.isFinite(total) ? -total : Number.POSITIVE_INFINITY;
  };
  const objective = (theta: readonly number[], gradient: number[]): number => {
    const value = negativeTotal(theta, gradient) / data.customers;
    for (let i = 0; i < gradient.length; i++) gradient[i] = (gradient[i] ?? 0) / data.customers;
    return value;
  };
  const valueOnly = (theta: readonly number[]): number => {
    if (theta.some((v) => !(Math.abs(v) <= WALL_LOG_PARAM))) return Number.POSITIVE_INFINITY;
    const total = totalLogLikelihood(spec, data, paramsFromLog(theta));
    return Number.isFinite(total) ? -total / data.customers : Number.POSITIVE_INFINITY;
  };

  // In the fit's time unit the mean T is 1, so the repeat rate per unit time is about sumX / customers.
  const rate = data.sumX / data.customers;
  const candidates: TransactionParams[] = options.initial
    ? [{ ...options.initial, alpha: options.initial.alpha / scale }]
    : [
        { r: 1, alpha: 1 / rate, a: 1, b: 1 },
        { r: 0.25, alpha: 0.25 / rate, a: 0.8, b: 2.5 },
        { r: 1, alpha: 1, a: 1, b: 1 },
        { r: 0.5, alpha: 0.5 / rate, a: 0.5, b: 5 },
      ];
  for (const c of candidates) validateTransactionParams(c);
  const result = minimizeLogParameters({
    objective,
    startValue: valueOnly,
    starts: candidates.map((c) => [Math.log(c.r), Math.log(c.alpha), Math.log(c.a), Math.log(c.b)]),
    names: PARAM_NAMES,
    scaledIndex: 1,
    scale,
    model: spec.model,
    customers: data.customers,
    boundaryLimit: BOUNDARY_LOG_PARAM,
    ...(options.optimizer === undefined ? {} : { optimizer: options.optimizer }),
    ...(options.maxIterations === undefined ? {} : { maxIterations: options.maxIterations }),
  });
  const scaled = paramsFromLog(result.x);
  const params: TransactionParams = { ...scaled, alpha: scaled.alpha * scale };
  // Rescaling time by `scale` multiplies each customer's likelihood by scale^{−x}.
  const logLikelihood = -result.value * data.customers - Math.log(scale) * data.sumX;
  if (!Number.isFinite(logLikelihood)) {
    throw new ModelError('LIKELIHOOD_NOT_FINITE', `${spec.model}: the log-likelihood at the optimum is ${logLikelihood}`);
  }
  const fit: TransactionFit = {
    model: spec.model,
    params,
    logLikelihood,
    iterations: result.iterations,
    evaluations: result.evaluations,
    customers: data.customers,
    groups: data.groups,
  };
  const standardErrorsOf = ([r = Number.NaN, alpha = Number.NaN, a = Number.NaN, b = Number.NaN]: readonly number[]): TransactionParams => ({
    r,
    alpha: alpha * scale,
    a,
    b,
  });
  if (options.standardErrors ?? true) {
    const errors = logScaleStandardErrors(numericalHessianFromGradient(negativeTotal, result.x, 1e-4), result.x);
    // Not identified: a flat or saddle optimum, or one so flat that ln θ is uncertain by more than ±MAX_LOG_SE.
    const flat = errors?.findIndex((se, i) => se / Math.exp(result.x[i] ?? 0) > MAX_LOG_STANDARD_ERROR) ?? 0;
    if (options.standardErrors === 'when-identified' && (!errors || flat >= 0)) {
      if (errors) fit.standardErrors = standardErrorsOf(errors);
      return fit;
    }
    if (!errors || flat >= 0) {
      throw new ModelError(
        'NOT_IDENTIFIABLE',
        `${spec.model}: the optimum found (r=${params.r}, alpha=${params.alpha}, a=${params.a}, b=${params.b}) is ` +
          (errors
            ? `so flat that ${PARAM_NAMES[flat] ?? '?'} is undetermined (standard error of its log ${(
                (errors[flat] ?? 0) / Math.exp(result.x[flat] ?? 0)
              ).toPrecision(3)})`
            : 'not a strict maximum (the Hessian is not positive definite)') +
          `: these ${data.customers} customers do not identify all four parameters`,
      );
    }
    fit.standardErrors = standardErrorsOf(errors);
  }
  return fit;
}
