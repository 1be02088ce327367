import { describe, expect, it } from 'vitest';
import {
  invertPositiveDefinite,
  minimizeBfgs,
  minimizeNelderMead,
  minimizeSmooth,
  ModelError,
  numericalHessian,
  numericalHessianFromGradient,
  type ValueAndGradient,
} from '../src/index.js';

const rosenbrock = (x: readonly number[]): number => {
  const [a = 0, b = 0] = x;
  return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
};
const rosenbrockWithGradient: ValueAndGradient = (x, g) => {
  const [a = 0, b = 0] = x;
  g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
  g[1] = 200 * (b - a * a);
  return rosenbrock(x);
};

function thrownCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof ModelError) {
      expect(error.retriable).toBe(false);
      return error.code;
    }
    throw error;
  }
  return undefined;
}

describe('Nelder–Mead', () => {
  it('finds the minimum of the Rosenbrock valley and of a skewed 4-D quadratic', () => {
    const r = minimizeNelderMead(rosenbrock, [-1.2, 1]);
    expect(r.converged).toBe(true);
    expect(r.x[0]).toBeCloseTo(1, 4);
    expect(r.x[1]).toBeCloseTo(1, 4);
    expect(r.restarts).toBeGreaterThanOrEqual(1);
    const centre = [3, -2, 0.5, 10];
    const quadratic = (x: readonly number[]): number =>
      x.reduce((sum, xi, i) => sum + (i + 1) * (xi - (centre[i] ?? 0)) ** 2, 0) + ((x[0] ?? 0) - 3) * ((x[1] ?? 0) + 2);
    const q = minimizeNelderMead(quadratic, [0, 0, 0, 0]);
    q.x.forEach((xi, i) => expect(xi).toBeCloseTo(centre[i] ?? 0, 5));
  });

  it('throws typed errors instead of returning NaN', () => {
    expect(thrownCode(() => minimizeNelderMead(() => Number.NaN, [0, 0]))).toBe('LIKELIHOOD_NOT_FINITE');
    expect(thrownCode(() => minimizeNelderMead(rosenbrock, [-1.2, 1], { maxIterations: 10 }))).toBe('FIT_NOT_CONVERGED');
    // unbounded below: keeps improving until the budget is gone
    expect(thrownCode(() => minimizeNelderMead((x) => x[0] ?? 0, [0], { maxIterations: 500 }))).toBe('FIT_NOT_CONVERGED');
  });

  it('backs away from regions where the objective is not finite', () => {
    const f = (x: readonly number[]): number => ((x[0] ?? 0) > 2 ? Number.NaN : ((x[0] ?? 0) - 1.5) ** 2 + (x[1] ?? 0) ** 2);
    const r = minimizeNelderMead(f, [1.9, 1]);
    expect(r.x[0]).toBeCloseTo(1.5, 4);
    expect(Number.isFinite(r.value)).toBe(true);
  });
});

describe('BFGS', () => {
  it('finds the Rosenbrock minimum in far fewer evaluations than Nelder–Mead', () => {
    const r = minimizeBfgs(rosenbrockWithGradient, [-1.2, 1]);
    expect(r.x[0]).toBeCloseTo(1, 6);
    expect(r.x[1]).toBeCloseTo(1, 6);
    const nm = minimizeNelderMead(rosenbrock, [-1.2, 1]);
    expect(r.evaluations).toBeLessThan(nm.evaluations);
  });

  it('throws typed errors, and minimizeSmooth falls back to Nelder–Mead when BFGS fails', () => {
    expect(thrownCode(() => minimizeBfgs(() => Number.NaN, [0]))).toBe('LIKELIHOOD_NOT_FINITE');
    expect(thrownCode(() => minimizeBfgs(rosenbrockWithGradient, [-1.2, 1], { maxIterations: 3 }))).toBe('FIT_NOT_CONVERGED');
    // A wrong gradient (sign flipped) makes every BFGS line search fail; Nelder–Mead still gets there.
    const wrongGradient: ValueAndGradient = (x, g) => {
      const value = rosenbrockWithGradient(x, g);
      g[0] = -(g[0] ?? 0);
      g[1] = -(g[1] ?? 0);
      return value;
    };
    const r = minimizeSmooth(wrongGradient, [-1.2, 1]);
    expect(r.x[0]).toBeCloseTo(1, 4);
    expect(r.x[1]).toBeCloseTo(1, 4);
  });

  it('stops at the boundary with FIT_NOT_CONVERGED and the caller’s message', () => {
    // unbounded below as x → ∞
    const runaway: ValueAndGradient = (x, g) => {
      g[0] = -1;
      return -(x[0] ?? 0);
    };
    expect(() => minimizeSmooth(runaway, [0], { boundary: { limit: 20, describe: () => 'x ran away' } })).toThrow('x ran away');
  });
});

describe('Hessians and their inverse', () => {
  it('recovers a known Hessian from values and from gradients', () => {
    const A = [
      [4, 1, 0.5],
      [1, 3, 0.2],
      [0.5, 0.2, 2],
    ];
    const f = (x: readonly number[]): number => 0.5 * x.reduce((s, xi, i) => s + xi * x.reduce((t, xj, j) => t + (A[i]?.[j] ?? 0) * xj, 0), 0);
    const fg: ValueAndGradient = (x, g) => {
      for (let i = 0; i < 3; i++) g[i] = x.reduce((t, xj, j) => t + (A[i]?.[j] ?? 0) * xj, 0);
      return f(x);
    };
    const h1 = numericalHessian(f, [0.3, -1, 2]);
    const h2 = numericalHessianFromGradient(fg, [0.3, -1, 2]);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        expect(h1[i]?.[j]).toBeCloseTo(A[i]?.[j] ?? 0, 5);
        expect(h2[i]?.[j]).toBeCloseTo(A[i]?.[j] ?? 0, 8);
      }
    }
    const inverse = invertPositiveDefinite(A);
    expect(inverse).toBeDefined();
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        const product = A[i]?.reduce((s, aik, k) => s + aik * (inverse?.[k]?.[j] ?? 0), 0);
        expect(product).toBeCloseTo(i === j ? 1 : 0, 12);
      }
    }
    expect(
      invertPositiveDefinite([
        [1, 2],
        [2, 1],
      ]),
    ).toBeUndefined();
  });
});
