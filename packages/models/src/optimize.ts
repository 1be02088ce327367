/**
 * Minimisers and numerical Hessians for maximum likelihood.
 *
 * - Nelder–Mead with restarts: derivative-free and robust, but it needs a few
 *   hundred objective evaluations for 3–4 parameters.
 * - BFGS: for objectives with an analytic gradient (the models provide one,
 *   nearly free per customer group), typically 15–40 evaluations.
 *
 * The models minimise the mean negative log-likelihood over log-parameters,
 * so every parameter stays positive and the search space is unconstrained;
 * they run BFGS first and fall back to Nelder–Mead if it fails.
 */
import { ModelError } from './errors.js';

export interface MinimizeOptions {
  /** Size of the initial simplex along each axis (default 0.5; in log-parameter units). */
  initialStep?: number;
  /** Simplex size for the confirming restarts (default 0.05). */
  restartStep?: number;
  /** Budget of Nelder–Mead iterations over all restarts (default 10 000). */
  maxIterations?: number;
  /** Converged when the simplex's function values differ by at most this (default 1e-10). */
  fTolerance?: number;
  /** … and its vertices by at most this in every coordinate (default 1e-6). */
  xTolerance?: number;
  /** Most restarts after the first run before giving up (default 8). */
  maxRestarts?: number;
  /** Called with the best point just before FIT_NOT_CONVERGED is thrown; may throw a more specific error. */
  onGiveUp?: (best: readonly number[]) => void;
}

export interface MinimizeResult {
  x: number[];
  value: number;
  /** Nelder–Mead iterations over all runs. */
  iterations: number;
  /** Objective evaluations over all runs. */
  evaluations: number;
  /** Runs after the first (at least one: a restart confirms convergence). */
  restarts: number;
  converged: true;
}

interface Vertex {
  x: number[];
  f: number;
}

interface RunResult {
  best: Vertex;
  iterations: number;
  converged: boolean;
}

/**
 * Minimises `f` from `x0` with the adaptive Nelder–Mead method (Gao & Han
 * 2012 coefficients), restarting from the best point until a restart no
 * longer improves it. Non-finite objective values count as +∞ (the search
 * backs away from them). Throws ModelError LIKELIHOOD_NOT_FINITE when `f(x0)`
 * is not finite and FIT_NOT_CONVERGED when the iteration budget runs out;
 * it never returns NaN.
 */
export function minimizeNelderMead(
  f: (x: readonly number[]) => number,
  x0: readonly number[],
  options: MinimizeOptions = {},
): MinimizeResult {
  const n = x0.length;
  if (n === 0) throw new ModelError('INVALID_INPUT', 'minimizeNelderMead: nothing to optimise (no coordinates)');
  const initialStep = options.initialStep ?? 0.5;
  const restartStep = options.restartStep ?? 0.05;
  const maxIterations = options.maxIterations ?? 10_000;
  const fTolerance = options.fTolerance ?? 1e-10;
  const xTolerance = options.xTolerance ?? 1e-6;
  const maxRestarts = options.maxRestarts ?? 8;

  let evaluations = 0;
  const objective = (x: readonly number[]): number => {
    evaluations++;
    const value = f(x);
    return Number.isFinite(value) ? value : Number.POSITIVE_INFINITY;
  };

  let best: Vertex = { x: [...x0], f: objective(x0) };
  if (!Number.isFinite(best.f)) {
    throw new ModelError('LIKELIHOOD_NOT_FINITE', `the objective is not finite at the starting point [${x0.join(', ')}]`);
  }
  let iterations = 0;
  for (let run = 0; run <= maxRestarts; run++) {
    const step = run === 0 ? initialStep : restartStep;
    const result = nelderMeadRun(objective, best, step, maxIterations - iterations, fTolerance, xTolerance);
    iterations += result.iterations;
    if (!result.converged) {
      options.onGiveUp?.(result.best.x);
      throw new ModelError(
        'FIT_NOT_CONVERGED',
        `Nelder–Mead did not converge within ${maxIterations} iterations (best objective ${result.best.f} at [${result.best.x
          .map((v) => v.toPrecision(6))
          .join(', ')}])`,
      );
    }
    const improvement = best.f - result.best.f;
    if (result.best.f <= best.f) best = result.best;
    // A restart that cannot improve on the previous optimum confirms it.
    if (run > 0 && improvement <= fTolerance) {
      return { x: best.x, value: best.f, iterations, evaluations, restarts: run, converged: true };
    }
  }
  options.onGiveUp?.(best.x);
  throw new ModelError(
    'FIT_NOT_CONVERGED',
    `Nelder–Mead kept improving after ${maxRestarts} restarts (objective ${best.f}); the optimum may lie on the boundary`,
  );
}

function nelderMeadRun(
  f: (x: readonly number[]) => number,
  start: Vertex,
  step: number,
  budget: number,
  fTolerance: number,
  xTolerance: number,
): RunResult {
  const n = start.x.length;
  // Adaptive coefficients: reflection 1, expansion 1 + 2/n, contraction 3/4 − 1/(2n), shrink 1 − 1/n.
  // (For n < 3 these degenerate, so the classic 2, 1/2, 1/2 are used there.)
  const expansion = n >= 3 ? 1 + 2 / n : 2;
  const contraction = n >= 3 ? 0.75 - 1 / (2 * n) : 0.5;
  const shrink = n >= 3 ? 1 - 1 / n : 0.5;

  const simplex: Vertex[] = [{ x: [...start.x], f: start.f }];
  for (let i = 0; i < n; i++) {
    const x = [...start.x];
    x[i] = (x[i] ?? 0) + step;
    simplex.push({ x, f: f(x) });
  }
  const at = (i: number): Vertex => simplex[i] as Vertex;
  const combine = (c: readonly number[], towards: readonly number[], t: number): number[] =>
    c.map((ci, j) => ci + t * ((towards[j] ?? 0) - ci));

  let iterations = 0;
  while (iterations < budget) {
    simplex.sort((p, q) => p.f - q.f);
    const best = at(0);
    const worst = at(n);
    let fSpread = 0;
    let xSpread = 0;
    for (let i = 1; i <= n; i++) {
      const v = at(i);
      fSpread = Math.max(fSpread, Math.abs(v.f - best.f));
      for (let j = 0; j < n; j++) xSpread = Math.max(xSpread, Math.abs((v.x[j] ?? 0) - (best.x[j] ?? 0)));
    }
    if (Number.isFinite(best.f) && fSpread <= fTolerance && xSpread <= xTolerance) {
      return { best: { x: [...best.x], f: best.f }, iterations, converged: true };
    }
    iterations++;

    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j] = (centroid[j] ?? 0) + (at(i).x[j] ?? 0) / n;

    const xr = combine(centroid, worst.x, -1);
    const fr = f(xr);
    if (fr < best.f) {
      const xe = combine(centroid, worst.x, -expansion);
      const fe = f(xe);
      simplex[n] = fe < fr ? { x: xe, f: fe } : { x: xr, f: fr };
      continue;
    }
    if (fr < at(n - 1).f) {
      simplex[n] = { x: xr, f: fr };
      continue;
    }
    if (fr < worst.f) {
      const xc = combine(centroid, worst.x, -contraction);
      const fc = f(xc);
      if (fc <= fr) {
        simplex[n] = { x: xc, f: fc };
        continue;
      }
    } else {
      const xc = combine(centroid, worst.x, contraction);
      const fc = f(xc);
      if (fc < worst.f) {
        simplex[n] = { x: xc, f: fc };
        continue;
      }
    }
    for (let i = 1; i <= n; i++) {
      const x = combine(best.x, at(i).x, shrink);
      simplex[i] = { x, f: f(x) };
    }
  }
  simplex.sort((p, q) => p.f - q.f);
  return { best: at(0), iterations, converged: false };
}

/** Central-difference Hessian of `f` at `x` with step `h` in every coordinate. */
export function numericalHessian(f: (x: readonly number[]) => number, x: readonly number[], h = 1e-4): number[][] {
  const n = x.length;
  const f0 = f(x);
  const shifted = (i: number, di: number, j: number, dj: number): number => {
    const y = [...x];
    y[i] = (y[i] ?? 0) + di;
    y[j] = (y[j] ?? 0) + dj;
    return f(y);
  };
  const hessian: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    const row = hessian[i] as number[];
    row[i] = (shifted(i, h, i, h) - 2 * f0 + shifted(i, -h, i, -h)) / (4 * h * h);
    for (let j = 0; j < i; j++) {
      const value =
        (shifted(i, h, j, h) - shifted(i, h, j, -h) - shifted(i, -h, j, h) + shifted(i, -h, j, -h)) / (4 * h * h);
      row[j] = value;
      (hessian[j] as number[])[i] = value;
    }
  }
  return hessian;
}

/**
 * Inverse of a symmetric positive-definite matrix by Cholesky decomposition;
 * undefined when the matrix is not positive definite (e.g. a flat direction).
 */
export function invertPositiveDefinite(matrix: readonly (readonly number[])[]): number[][] | undefined {
  const n = matrix.length;
  const get = (m: readonly (readonly number[])[], i: number, j: number): number => m[i]?.[j] ?? 0;
  const lower: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = get(matrix, i, j);
      for (let k = 0; k < j; k++) sum -= get(lower, i, k) * get(lower, j, k);
      if (i === j) {
        if (!(sum > 0) || !Number.isFinite(sum)) return undefined;
        (lower[i] as number[])[i] = Math.sqrt(sum);
      } else {
        (lower[i] as number[])[j] = sum / get(lower, j, j);
      }
    }
  }
  // inverse = L^{-T} L^{-1}
  const lowerInverse: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    (lowerInverse[i] as number[])[i] = 1 / get(lower, i, i);
    for (let j = 0; j < i; j++) {
      let sum = 0;
      for (let k = j; k < i; k++) sum -= get(lower, i, k) * get(lowerInverse, k, j);
      (lowerInverse[i] as number[])[j] = sum / get(lower, i, i);
    }
  }
  const inverse: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = Math.max(i, j); k < n; k++) sum += get(lowerInverse, k, i) * get(lowerInverse, k, j);
      (inverse[i] as number[])[j] = sum;
    }
  }
  return inverse;
}

/**
 * Hessian from an analytic gradient: central differences of the gradient,
 * symmetrised (2n gradient evaluations).
 */
export function numericalHessianFromGradient(fg: ValueAndGradient, x: readonly number[], h = 1e-4): number[][] {
  const n = x.length;
  const columns: number[][] = [];
  for (let j = 0; j < n; j++) {
    const plus = [...x];
    const minus = [...x];
    plus[j] = (plus[j] ?? 0) + h;
    minus[j] = (minus[j] ?? 0) - h;
    const gPlus = new Array<number>(n).fill(0);
    const gMinus = new Array<number>(n).fill(0);
    fg(plus, gPlus);
    fg(minus, gMinus);
    columns.push(gPlus.map((v, i) => (v - (gMinus[i] ?? 0)) / (2 * h)));
  }
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => ((columns[j]?.[i] ?? Number.NaN) + (columns[i]?.[j] ?? Number.NaN)) / 2),
  );
}

/**
 * Standard errors of positive parameters fitted on the log scale, from the
 * Hessian of the total negative log-likelihood in log-parameters: its inverse
 * is Var(ln θ), and the delta method gives SE(θ) ≈ θ · SE(ln θ). Undefined
 * when the Hessian is not positive definite.
 */
export function logScaleStandardErrors(hessian: readonly (readonly number[])[], logParams: readonly number[]): number[] | undefined {
  const covariance = invertPositiveDefinite(hessian);
  if (covariance === undefined) return undefined;
  const errors = logParams.map((v, i) => Math.exp(v) * Math.sqrt(covariance[i]?.[i] ?? Number.NaN));
  return errors.every(Number.isFinite) ? errors : undefined;
}

/** Writes ∂f/∂x into `gradient` (same length as x) and returns f(x). */
export type ValueAndGradient = (x: readonly number[], gradient: number[]) => number;

export interface BfgsOptions {
  /** Most quasi-Newton iterations (default 500). */
  maxIterations?: number;
  /** Converged when every |∂f/∂x_i| is at most this (default 1e-8). */
  gradientTolerance?: number;
  /** Longest step in any coordinate per iteration (default 2). */
  maxStep?: number;
}

export interface BfgsRun {
  x: number[];
  value: number;
  gradient: number[];
  iterations: number;
  evaluations: number;
  converged: boolean;
  /** Why the run stopped, for error messages. */
  reason: string;
}

/** A gradient of the per-customer objective this small moves no parameter in its 6th digit. */
const STALLED_GRADIENT_TOLERANCE = 1e-6;

const dot = (u: readonly number[], v: readonly number[]): number => u.reduce((sum, ui, i) => sum + ui * (v[i] ?? 0), 0);
const maxAbs = (u: readonly number[]): number => u.reduce((m, ui) => Math.max(m, Math.abs(ui)), 0);

/**
 * One BFGS run with a backtracking (Armijo) line search; does not throw.
 * Non-finite values make the line search back off.
 */
export function bfgsRun(fg: ValueAndGradient, x0: readonly number[], options: BfgsOptions = {}): BfgsRun {
  const n = x0.length;
  const maxIterations = options.maxIterations ?? 500;
  const gradientTolerance = options.gradientTolerance ?? 1e-8;
  const maxStep = options.maxStep ?? 2;
  const identity = (): number[][] => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  let evaluations = 0;
  const evaluate = (x: readonly number[], g: number[]): number => {
    evaluations++;
    const value = fg(x, g);
    return Number.isFinite(value) && g.every(Number.isFinite) ? value : Number.POSITIVE_INFINITY;
  };
  let x = [...x0];
  let g = new Array<number>(n).fill(0);
  let f = evaluate(x, g);
  const stop = (converged: boolean, reason: string, iterations: number): BfgsRun => ({
    x,
    value: f,
    gradient: g,
    iterations,
    evaluations,
    converged,
    reason,
  });
  if (!Number.isFinite(f)) return stop(false, 'objective or gradient not finite at the start', 0);
  let H = identity();
  let scaled = false;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    if (maxAbs(g) <= gradientTolerance) return stop(true, 'gradient below tolerance', iteration);
    let d = H.map((row) => -dot(row, g));
    let slope = dot(g, d);
    if (!(slope < 0)) {
      H = identity();
      d = g.map((gi) => -gi);
      slope = -dot(g, g);
    }
    let step = Math.min(1, maxStep / maxAbs(d));
    let accepted = false;
    let xNew = x;
    let gNew = g;
    let fNew = f;
    for (let tries = 0; tries < 60; tries++) {
      xNew = x.map((xi, i) => xi + step * (d[i] ?? 0));
      gNew = new Array<number>(n).fill(0);
      fNew = evaluate(xNew, gNew);
      if (fNew <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      if (Number.isFinite(fNew)) {
        // minimiser of the quadratic through f, slope and fNew, kept within [0.1, 0.5] of the step
        const next = (-slope * step * step) / (2 * (fNew - f - slope * step));
        step = Math.min(0.5 * step, Math.max(0.1 * step, next));
      } else {
        step *= 0.25;
      }
    }
    if (!accepted) {
      // Next to the optimum, rounding in an objective summed over many customers stalls the
      // line search before the strict tolerance is met; a gradient this small is converged.
      const stalledAtOptimum = maxAbs(g) <= STALLED_GRADIENT_TOLERANCE;
      return stop(stalledAtOptimum, `line search failed (largest gradient component ${maxAbs(g).toExponential(2)})`, iteration);
    }
    const s = xNew.map((xi, i) => xi - (x[i] ?? 0));
    const y = gNew.map((gi, i) => gi - (g[i] ?? 0));
    const sy = dot(s, y);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (!scaled) {
        const gamma = sy / dot(y, y);
        H = H.map((row) => row.map((v) => v * gamma));
        scaled = true;
      }
      const rho = 1 / sy;
      const Hy = H.map((row) => dot(row, y));
      const yHy = dot(y, Hy);
      H = H.map((row, i) =>
        row.map(
          (v, j) =>
            v - rho * ((Hy[i] ?? 0) * (s[j] ?? 0) + (s[i] ?? 0) * (Hy[j] ?? 0)) + (rho * rho * yHy + rho) * (s[i] ?? 0) * (s[j] ?? 0),
        ),
      );
    }
    const progress = f - fNew;
    x = xNew;
    g = gNew;
    f = fNew;
    // Steps that no longer change the objective beyond rounding, at a near-zero gradient: done.
    if (maxAbs(g) <= STALLED_GRADIENT_TOLERANCE && progress <= 1e-13 * Math.abs(f)) return stop(true, 'objective stalled at a near-zero gradient', iteration + 1);
  }
  // Rounding can also keep accepting ever smaller steps around the optimum without meeting the
  // strict tolerance; the same practical criterion applies.
  return stop(maxAbs(g) <= Math.max(gradientTolerance, STALLED_GRADIENT_TOLERANCE), `no convergence in ${maxIterations} iterations`, maxIterations);
}

/**
 * Minimises a smooth `f` with an analytic gradient by BFGS. Throws ModelError
 * LIKELIHOOD_NOT_FINITE when f is not finite at x0 and FIT_NOT_CONVERGED when
 * it does not converge; never returns NaN.
 */
export function minimizeBfgs(fg: ValueAndGradient, x0: readonly number[], options: BfgsOptions = {}): MinimizeResult {
  const run = bfgsRun(fg, x0, options);
  if (!Number.isFinite(run.value)) {
    throw new ModelError('LIKELIHOOD_NOT_FINITE', `the objective is not finite at the starting point [${x0.join(', ')}]`);
  }
  if (!run.converged) throw new ModelError('FIT_NOT_CONVERGED', `BFGS did not converge: ${run.reason}`);
  return { x: run.x, value: run.value, iterations: run.iterations, evaluations: run.evaluations, restarts: 0, converged: true };
}

export type Optimizer = 'bfgs' | 'nelder-mead';

export interface SmoothMinimizeOptions {
  optimizer?: Optimizer;
  /** Iteration budget of each method (defaults: BFGS 500, Nelder–Mead 3 000). */
  maxIterations?: number;
  /**
   * Coordinates beyond ±limit mean the optimum lies on the boundary of the
   * parameter space: the search stops there with FIT_NOT_CONVERGED and the
   * message from `describe(x)`, instead of chasing it for ever.
   */
  boundary?: { limit: number; describe: (x: readonly number[]) => string };
}

/**
 * BFGS from x0, falling back to Nelder–Mead from BFGS's best point when BFGS
 * does not converge (or straight Nelder–Mead when asked). Throws like the two
 * minimisers (and FIT_NOT_CONVERGED at the boundary); never returns NaN.
 */
export function minimizeSmooth(fg: ValueAndGradient, x0: readonly number[], options: SmoothMinimizeOptions = {}): MinimizeResult {
  const scratch = new Array<number>(x0.length).fill(0);
  const valueOnly = (x: readonly number[]): number => fg(x, scratch);
  const checkBoundary = (x: readonly number[]): void => {
    const { boundary } = options;
    if (boundary && x.some((v) => Math.abs(v) > boundary.limit)) throw new ModelError('FIT_NOT_CONVERGED', boundary.describe(x));
  };
  const nelderMead = (start: readonly number[]): MinimizeResult => {
    // A search that gives up after running off towards the boundary says so.
    const result = minimizeNelderMead(valueOnly, start, { maxIterations: options.maxIterations ?? 3000, onGiveUp: checkBoundary });
    checkBoundary(result.x);
    return result;
  };
  if (options.optimizer === 'nelder-mead') return nelderMead(x0);
  const run = bfgsRun(fg, x0, options.maxIterations === undefined ? {} : { maxIterations: options.maxIterations });
  if (!Number.isFinite(run.value)) {
    throw new ModelError('LIKELIHOOD_NOT_FINITE', `the objective is not finite at the starting point [${x0.join(', ')}]`);
  }
  checkBoundary(run.x);
  if (run.converged) {
    return { x: run.x, value: run.value, iterations: run.iterations, evaluations: run.evaluations, restarts: 0, converged: true };
  }
  const result = nelderMead(run.x);
  return { ...result, iterations: run.iterations + result.iterations, evaluations: run.evaluations + result.evaluations };
}

export interface LogParameterFitOptions {
  /** The per-customer negative log-likelihood and its gradient, over log-parameters. */
  objective: ValueAndGradient;
  /** Candidate starting points (log-parameters); the one with the lowest objective is used. */
  starts: readonly number[][];
  /** How starting points are compared, when not by `objective`. */
  startValue?: (theta: readonly number[]) => number;
  /** Parameter names, in order, for error messages. */
  names: readonly string[];
  /** The parameter measured in rescaled units (time or money) and the scale to report it in. */
  scaledIndex: number;
  scale: number;
  /** Which model, for error messages; `hint` says what data cause an unidentifiable fit. */
  model: string;
  customers: number;
  hint?: string;
  boundaryLimit: number;
  optimizer?: Optimizer;
  maxIterations?: number;
}

/**
 * What every model fit does: start from the best candidate, minimise, and
 * when the optimum runs off to the boundary, say which parameter went and why.
 */
export function minimizeLogParameters(options: LogParameterFitOptions): MinimizeResult {
  const scratch = new Array<number>(options.names.length).fill(0);
  let start: readonly number[] | undefined;
  let startValue = Number.POSITIVE_INFINITY;
  for (const theta of options.starts) {
    const value = options.startValue ? options.startValue(theta) : options.objective(theta, scratch);
    if (value < startValue) {
      start = theta;
      startValue = value;
    }
  }
  if (start === undefined) {
    throw new ModelError('LIKELIHOOD_NOT_FINITE', `${options.model}: the log-likelihood is not finite at any starting point`);
  }
  return minimizeSmooth(options.objective, start, {
    ...(options.optimizer === undefined ? {} : { optimizer: options.optimizer }),
    ...(options.maxIterations === undefined ? {} : { maxIterations: options.maxIterations }),
    boundary: {
      limit: options.boundaryLimit,
      describe: (theta) => {
        const i = theta.findIndex((t) => Math.abs(t) > options.boundaryLimit);
        const value = Math.exp(theta[i] ?? 0) * (i === options.scaledIndex ? options.scale : 1);
        return (
          `${options.model}: the likelihood keeps rising towards the boundary of the parameter space ` +
          `(${options.names[i] ?? '?'} → ${value.toExponential(2)}); these ${options.customers} customers cannot identify the parameters` +
          (options.hint ? ` ${options.hint}` : '')
        );
      },
    },
  });
}
