/**
 * Gamma-Gamma spend model — Fader, Hardie & Lee (2005), "RFM and CLV: using
 * iso-value curves for customer base analysis", JMR 42(4), and Fader &
 * Hardie's note "The Gamma-Gamma model of monetary value" (2013).
 *
 * The value of each repeat transaction is Gamma(shape p, rate ν); ν varies
 * across customers as Gamma(shape q, rate v). For a customer with x ≥ 1 repeat
 * purchase days of mean value m̄ (so x·m̄ ~ Gamma(px, ν)):
 *
 *   f(m̄ | p, q, v, x) = Γ(px+q) / (Γ(px) Γ(q)) · v^q m̄^{px−1} x^{px} / (v + x m̄)^{px+q}
 *
 *   E[M | x, m̄] = p (v + x m̄) / (px + q − 1)
 *               = (q−1)/(px+q−1) · p v/(q−1) + px/(px+q−1) · m̄,
 *
 * a weighted mean of the population mean p·v/(q−1) and the customer's own m̄.
 */
import { ModelError } from './errors.js';
import { logScaleStandardErrors, minimizeLogParameters, numericalHessianFromGradient, type Optimizer } from './optimize.js';
import { digamma, logGamma } from './special-functions.js';

export interface GammaGammaParams {
  p: number;
  q: number;
  /** The rate parameter γ of the papers (a money scale: same unit as m̄). */
  v: number;
}

/** One customer (or `count` identical ones): x repeat purchase days with mean value m̄. */
export interface SpendRow {
  x: number;
  /** Mean value of the x repeat purchase days (> 0 when x ≥ 1; ignored when x = 0). */
  mbar: number;
  count?: number;
}

export interface GammaGammaFitOptions {
  maxIterations?: number;
  initial?: GammaGammaParams;
  /**
   * Compute standard errors from the numerical Hessian (default true); the fit
   * then also throws NOT_IDENTIFIABLE when the Hessian is not positive definite
   * or a parameter's log has a standard error above 10. 'when-identified':
   * report them where they exist and never throw for them (an optimum on a
   * ridge still predicts: e.g. q, v → ∞ with v/q fixed).
   */
  standardErrors?: boolean | 'when-identified';
  /** 'bfgs' (default; analytic gradient, Nelder–Mead as fallback) or 'nelder-mead'. */
  optimizer?: Optimizer;
}

export interface GammaGammaFit {
  model: 'gamma_gamma';
  params: GammaGammaParams;
  /** Σ count · ln f(m̄ | x) over the customers with x ≥ 1, in the input's money unit. */
  logLikelihood: number;
  iterations: number;
  evaluations: number;
  /** Customers used (Σ count over rows with x ≥ 1). */
  customers: number;
  groups: number;
  standardErrors?: GammaGammaParams;
}

const PARAM_NAMES = ['p', 'q', 'v'] as const;
const BOUNDARY_LOG_PARAM = 20;
const WALL_LOG_PARAM = 50;
/** A standard error of ln θ above this (θ uncertain by a factor e^10) means θ is not identified. */
const MAX_LOG_STANDARD_ERROR = 10;

export function validateGammaGammaParams(params: GammaGammaParams): void {
  for (const name of PARAM_NAMES) {
    const value = params[name];
    if (!Number.isFinite(value) || value <= 0) {
      throw new ModelError('INVALID_PARAMETERS', `Gamma-Gamma parameter ${name} = ${value}: must be a finite number > 0`);
    }
  }
}

function validateRow(row: SpendRow, where: string): void {
  if (!Number.isInteger(row.x) || row.x < 0) {
    throw new ModelError('INVALID_INPUT', `${where} {x: ${row.x}, mbar: ${row.mbar}}: x must be a non-negative integer`);
  }
  if (row.x >= 1 && !(Number.isFinite(row.mbar) && row.mbar > 0)) {
    throw new ModelError(
      'INVALID_INPUT',
      `${where} {x: ${row.x}, mbar: ${row.mbar}}: the mean repeat-purchase value must be a finite number > 0 ` +
        '(the Gamma-Gamma model has no zero-value purchases; leave such customers out of the fit)',
    );
  }
}

/** ln f(m̄ | p, q, v, x) for one customer with x ≥ 1. */
export function gammaGammaLogLikelihood(params: GammaGammaParams, row: { x: number; mbar: number }): number {
  validateGammaGammaParams(params);
  validateRow(row, 'customer');
  if (row.x < 1) throw new ModelError('INVALID_INPUT', 'the Gamma-Gamma likelihood needs x ≥ 1 (a repeat purchase)');
  const { p, q, v } = params;
  const px = p * row.x;
  return (
    logGamma(px + q) -
    logGamma(px) -
    logGamma(q) +
    q * Math.log(v) +
    (px - 1) * Math.log(row.mbar) +
    px * Math.log(row.x) -
    (px + q) * Math.log(v + row.x * row.mbar)
  );
}

/** The population mean value p·v/(q−1); throws INVALID_PARAMETERS when q ≤ 1 (the mean is infinite). */
export function gammaGammaPopulationMean(params: GammaGammaParams): number {
  validateGammaGammaParams(params);
  if (params.q <= 1) {
    throw new ModelError(
      'INVALID_PARAMETERS',
      `Gamma-Gamma q = ${params.q} ≤ 1: the population mean value p·v/(q−1) is infinite, ` +
        'so a customer without repeat purchases has no finite expected value',
    );
  }
  return (params.p * params.v) / (params.q - 1);
}

/**
 * E[M | x, m̄]: the expected value of a future purchase day. For x = 0 (no
 * repeat purchase, m̄ unused) it is the population mean p·v/(q−1).
 */
export function gammaGammaExpectedValue(params: GammaGammaParams, x: number, mbar?: number): number {
  validateGammaGammaParams(params);
  if (x === 0) return gammaGammaPopulationMean(params);
  if (mbar === undefined) throw new ModelError('INVALID_INPUT', `x = ${x} ≥ 1 needs the mean repeat-purchase value m̄`);
  validateRow({ x, mbar }, 'customer');
  const { p, q, v } = params;
  const denominator = p * x + q - 1;
  if (!(denominator > 0)) {
    throw new ModelError('INVALID_PARAMETERS', `Gamma-Gamma p·x + q − 1 = ${denominator} ≤ 0: the conditional mean is infinite`);
  }
  return (p * (v + x * mbar)) / denominator;
}

/** Maximum-likelihood fit over customers with x ≥ 1 (rows with x = 0 are skipped). */
export function fitGammaGamma(rows: readonly SpendRow[], options: GammaGammaFitOptions = {}): GammaGammaFit {
  const xs: number[] = [];
  const ms: number[] = [];
  const counts: number[] = [];
  let customers = 0;
  let weightedMean = 0;
  rows.forEach((row, i) => {
    validateRow(row, `row ${i}`);
    const count = row.count ?? 1;
    if (!Number.isFinite(count) || count < 0) {
      throw new ModelError('INVALID_INPUT', `row ${i}: count ${count} must be a finite number ≥ 0`);
    }
    if (row.x === 0 || count === 0) return;
    xs.push(row.x);
    ms.push(row.mbar);
    counts.push(count);
    customers += count;
    weightedMean += count * row.mbar;
  });
  if (customers === 0) {
    throw new ModelError('NO_DATA', 'the Gamma-Gamma model needs at least one customer with a repeat purchase (x ≥ 1)');
  }
  // Work in units of the mean m̄ for conditioning; v scales with the unit.
  const scale = weightedMean / customers;
  const n = xs.length;
  const logM = Float64Array.from(ms, (m) => Math.log(m / scale));
  const scaledM = Float64Array.from(ms, (m) => m / scale);
  const distinctX = [...new Set(xs)];
  const xSlot = new Map(distinctX.map((x, k) => [x, k] as const));
  const xIndex = Int32Array.from(xs, (x) => xSlot.get(x) ?? 0);
  const logX = distinctX.map((x) => Math.log(x));

  /**
   * Σ count · ln f and its gradient in θ = ln(p, q, v):
   *   ∂/∂p = x [ψ(px+q) − ψ(px) + ln x + ln m̄ − ln(v + x m̄)]
   *   ∂/∂q = ψ(px+q) − ψ(q) + ln v − ln(v + x m̄)
   *   ∂/∂v = q/v − (px+q)/(v + x m̄)
   */
  const negativeTotal = (theta: readonly number[], gradient: number[]): number => {
    if (theta.some((t) => !(Math.abs(t) <= WALL_LOG_PARAM))) return Number.POSITIVE_INFINITY;
    const p = Math.exp(theta[0] ?? 0);
    const q = Math.exp(theta[1] ?? 0);
    const v = Math.exp(theta[2] ?? 0);
    const lgq = logGamma(q);
    const logV = Math.log(v);
    const psiQ = digamma(q);
    const common = distinctX.map((x, k) => logGamma(p * x + q) - logGamma(p * x) - lgq + q * logV + p * x * (logX[k] ?? 0));
    const psiSum = distinctX.map((x) => digamma(p * x + q));
    const psiPx = distinctX.map((x) => digamma(p * x));
    let sum = 0;
    let dp = 0;
    let dq = 0;
    let dv = 0;
    for (let i = 0; i < n; i++) {
      const k = xIndex[i] as number;
      const x = distinctX[k] as number;
      const count = counts[i] as number;
      const px = p * x;
      const logMi = logM[i] as number;
      const denominator = v + x * (scaledM[i] as number);
      const logDenominator = Math.log(denominator);
      sum += count * ((common[k] as number) + (px - 1) * logMi - (px + q) * logDenominator);
      const psi = psiSum[k] as number;
      dp += count * x * (psi - (psiPx[k] as number) + (logX[k] as number) + logMi - logDenominator);
      dq += count * (psi - psiQ + logV - logDenominator);
      dv += count * (q / v - (px + q) / denominator);
    }
    gradient[0] = -dp * p;
    gradient[1] = -dq * q;
    gradient[2] = -dv * v;
    return Number.isFinite(sum) ? -sum : Number.POSITIVE_INFINITY;
  };
  const objective = (theta: readonly number[], gradient: number[]): number => {
    const value = negativeTotal(theta, gradient) / customers;
    for (let i = 0; i < gradient.length; i++) gradient[i] = (gradient[i] ?? 0) / customers;
    return value;
  };

  const candidates: GammaGammaParams[] = options.initial
    ? [{ ...options.initial, v: options.initial.v / scale }]
    : [
        { p: 1, q: 2, v: 1 },
        { p: 5, q: 3, v: 0.4 },
        { p: 2, q: 5, v: 2 },
        { p: 10, q: 10, v: 0.9 },
      ];
  for (const c of candidates) validateGammaGammaParams(c);
  const result = minimizeLogParameters({
    objective,
    starts: candidates.map((c) => [Math.log(c.p), Math.log(c.q), Math.log(c.v)]),
    names: PARAM_NAMES,
    scaledIndex: 2,
    scale,
    model: 'Gamma-Gamma',
    customers,
    hint: '(e.g. all have the same m̄)',
    boundaryLimit: BOUNDARY_LOG_PARAM,
    ...(options.optimizer === undefined ? {} : { optimizer: options.optimizer }),
    ...(options.maxIterations === undefined ? {} : { maxIterations: options.maxIterations }),
  });
  const params: GammaGammaParams = {
    p: Math.exp(result.x[0] ?? 0),
    q: Math.exp(result.x[1] ?? 0),
    v: Math.exp(result.x[2] ?? 0) * scale,
  };
  // Measuring money in units of `scale` multiplies each density by `scale`.
  const logLikelihood = -result.value * customers - customers * Math.log(scale);
  if (!Number.isFinite(logLikelihood)) {
    throw new ModelError('LIKELIHOOD_NOT_FINITE', `Gamma-Gamma: the log-likelihood at the optimum is ${logLikelihood}`);
  }
  const fit: GammaGammaFit = {
    model: 'gamma_gamma',
    params,
    logLikelihood,
    iterations: result.iterations,
    evaluations: result.evaluations,
    customers,
    groups: n,
  };
  const standardErrorsOf = ([p = Number.NaN, q = Number.NaN, v = Number.NaN]: readonly number[]): GammaGammaParams => ({ p, q, v: v * scale });
  if (options.standardErrors ?? true) {
    const errors = logScaleStandardErrors(numericalHessianFromGradient(negativeTotal, result.x, 1e-4), result.x);
    const flat = errors?.findIndex((se, i) => se / Math.exp(result.x[i] ?? 0) > MAX_LOG_STANDARD_ERROR) ?? 0;
    if (options.standardErrors === 'when-identified' && (!errors || flat >= 0)) {
      if (errors) fit.standardErrors = standardErrorsOf(errors);
      return fit;
    }
    if (!errors || flat >= 0) {
      throw new ModelError(
        'NOT_IDENTIFIABLE',
        `Gamma-Gamma: the optimum found (p=${params.p}, q=${params.q}, v=${params.v}) is ` +
          (errors
            ? `so flat that ${PARAM_NAMES[flat] ?? '?'} is undetermined (standard error of its log ${(
                (errors[flat] ?? 0) / Math.exp(result.x[flat] ?? 0)
              ).toPrecision(3)})`
            : 'not a strict maximum (the Hessian is not positive definite)') +
          `: these ${customers} customers do not identify all three parameters`,
      );
    }
    fit.standardErrors = standardErrorsOf(errors);
  }
  return fit;
}
