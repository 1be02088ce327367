import { describe, expect, it } from 'vitest';
import { digamma, gammaSign, hyp2f1, hyp2f1Series, logAddExp, logBeta, logGamma, logSumExp, ModelError } from '../src/index.js';

const relativeError = (actual: number, expected: number): number => Math.abs(actual - expected) / Math.abs(expected);

/** Naive power series Σ (a)_n (b)_n / ((c)_n n!) z^n with Kahan summation and a fixed, generous number of terms. */
function slowSeries(a: number, b: number, c: number, z: number, terms: number): number {
  let term = 1;
  let sum = 1;
  let compensation = 0;
  for (let n = 0; n < terms; n++) {
    term *= (((a + n) * (b + n)) / ((c + n) * (n + 1))) * z;
    const y = term - compensation;
    const t = sum + y;
    compensation = t - sum - y;
    sum = t;
  }
  return sum;
}

function expectModelError(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).code).toBe(code);
    expect((error as ModelError).retriable).toBe(false);
    return;
  }
  throw new Error(`expected a ModelError ${code}, got a value`);
}

describe('logGamma', () => {
  it('matches ln((n−1)!) at the integers', () => {
    let factorial = 1;
    for (let n = 1; n <= 60; n++) {
      if (n > 1) factorial *= n - 1;
      const expected = Math.log(factorial);
      if (expected === 0) expect(Math.abs(logGamma(n))).toBeLessThan(1e-15);
      else expect(relativeError(logGamma(n), expected)).toBeLessThan(1e-13);
    }
  });

  it('matches Γ(n + 1/2) = (2n)! √π / (4^n n!) at the half-integers', () => {
    for (let n = 0; n <= 40; n++) {
      let logValue = 0.5 * Math.log(Math.PI);
      for (let k = 1; k <= n; k++) logValue += Math.log((2 * k - 1) / 2); // Γ(n+1/2) = Γ(1/2) Π (k − 1/2)
      expect(relativeError(logGamma(n + 0.5), logValue)).toBeLessThan(1e-13);
    }
  });

  it('matches Stirling’s series for large arguments and handles tiny ones', () => {
    for (const x of [50.5, 1e3, 1e6, 1e10]) {
      const stirling = (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x ** 3) + 1 / (1260 * x ** 5);
      expect(relativeError(logGamma(x), stirling)).toBeLessThan(1e-14);
    }
    // Γ(x) ≈ 1/x − γ for tiny x
    expect(relativeError(logGamma(1e-10), -Math.log(1e-10) - 0.5772156649015329 * 1e-10)).toBeLessThan(1e-14);
  });

  it('reflects to negative arguments and has poles at the non-positive integers', () => {
    // Γ(−1/2) = −2√π, Γ(−3/2) = 4√π/3
    expect(relativeError(logGamma(-0.5), Math.log(2 * Math.sqrt(Math.PI)))).toBeLessThan(1e-14);
    expect(gammaSign(-0.5)).toBe(-1);
    expect(relativeError(logGamma(-1.5), Math.log((4 * Math.sqrt(Math.PI)) / 3))).toBeLessThan(1e-14);
    expect(gammaSign(-1.5)).toBe(1);
    expect(logGamma(0)).toBe(Number.POSITIVE_INFINITY);
    expect(logGamma(-3)).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(gammaSign(-3))).toBe(true);
  });
});

describe('digamma', () => {
  const eulerGamma = 0.5772156649015329;
  it('matches known values and the recurrence', () => {
    expect(Math.abs(digamma(1) + eulerGamma)).toBeLessThan(1e-15);
    expect(Math.abs(digamma(0.5) - (-eulerGamma - 2 * Math.log(2)))).toBeLessThan(1e-14);
    for (const x of [0.01, 0.24, 3.7, 12.5, 400]) expect(Math.abs(digamma(x + 1) - digamma(x) - 1 / x)).toBeLessThan(1e-12 * Math.max(1, 1 / x));
  });

  it('is the derivative of logGamma', () => {
    for (const x of [0.3, 1.7, 8.2, 55]) {
      const h = 1e-5;
      const numeric = (logGamma(x + h) - logGamma(x - h)) / (2 * h);
      expect(Math.abs(digamma(x) - numeric)).toBeLessThan(1e-8);
    }
  });
});

describe('logBeta, logSumExp, logAddExp', () => {
  it('computes B(2, 3) = 1/12 and B(1/2, 1/2) = π', () => {
    expect(relativeError(logBeta(2, 3), Math.log(1 / 12))).toBeLessThan(1e-14);
    expect(relativeError(logBeta(0.5, 0.5), Math.log(Math.PI))).toBeLessThan(1e-14);
  });

  it('adds huge and tiny exponentials without overflow', () => {
    expect(logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.log(2), 12);
    expect(logSumExp([-1000, -1000, -1000])).toBeCloseTo(-1000 + Math.log(3), 12);
    expect(logSumExp([])).toBe(Number.NEGATIVE_INFINITY);
    expect(logSumExp([Number.NEGATIVE_INFINITY, 2])).toBe(2);
    expect(logAddExp(800, 800)).toBeCloseTo(800 + Math.log(2), 12);
    expect(logAddExp(Number.NEGATIVE_INFINITY, -3)).toBe(-3);
    expect(logAddExp(0, -50)).toBeCloseTo(Math.log1p(Math.exp(-50)), 15);
  });
});

describe('hyp2f1', () => {
  it('matches 2F1(1, 1; 2; z) = −ln(1 − z)/z, from negative z to z close to 1', () => {
    for (const z of [-20, -5, -0.5, 0.01, 0.3, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999]) {
      expect(relativeError(hyp2f1(1, 1, 2, z), -Math.log1p(-z) / z)).toBeLessThan(1e-12);
    }
    // c − a − b = 0 is the logarithmic case: no connection formula, and the direct series would need
    // about 37/(1 − z) terms, more than the default million: an error, not a truncated sum.
    expectModelError(() => hyp2f1(1, 1, 2, 0.999999), 'NUMERIC_FAILURE');
  });

  it('uses the 1 − z connection formula close to z = 1 when c − a − b is not an integer', () => {
    // 2F1(a, b; b; z) with c − a − b = −a; near z = 1 the series alone would need millions of terms.
    for (const z of [0.99999, 1 - 1e-9]) {
      expect(relativeError(hyp2f1(0.37, 1.9, 1.9, z), Math.pow(1 - z, -0.37))).toBeLessThan(1e-11);
    }
  });

  it('matches 2F1(a, b; b; z) = (1 − z)^{−a}', () => {
    for (const [a, b] of [
      [0.24, 2.43],
      [3.5, 0.79],
      [-0.21, 1.98],
      [12.3, 40.1],
    ] as const) {
      for (const z of [-3, -0.4, 0.2, 0.6, 0.93, 0.97, 0.995]) {
        expect(relativeError(hyp2f1(a, b, b, z), Math.pow(1 - z, -a))).toBeLessThan(1e-12);
      }
    }
  });

  it('matches more closed forms: arcsin, arctan, terminating polynomials, Gauss’s sum at z = 1', () => {
    for (const x of [0.1, 0.5, 0.9, 0.999]) {
      expect(relativeError(hyp2f1(0.5, 0.5, 1.5, x * x), Math.asin(x) / x)).toBeLessThan(1e-12);
      expect(relativeError(hyp2f1(0.5, 1, 1.5, -x * x), Math.atan(x) / x)).toBeLessThan(1e-12);
    }
    const [b, c, z] = [2.7, 1.3, -4.2];
    expect(relativeError(hyp2f1(-2, b, c, z), 1 - (2 * b * z) / c + (b * (b + 1) * z * z) / (c * (c + 1)))).toBeLessThan(1e-14);
    const [a2, b2, c2] = [0.24, 2.43, 4.2];
    const gauss = Math.exp(logGamma(c2) + logGamma(c2 - a2 - b2) - logGamma(c2 - a2) - logGamma(c2 - b2));
    expect(relativeError(hyp2f1(a2, b2, c2, 1), gauss)).toBeLessThan(1e-13);
    expect(relativeError(hyp2f1(a2, b2, c2, 1 - 1e-12), gauss)).toBeLessThan(1e-9);
  });

  it('agrees with a slow direct series at the parameters BG/NBD and MBG/NBD use', () => {
    // (r + x, b + x; a + b + x − 1; z) and its Euler-transformed (a + b − 1 − r, a − 1; a + b + x − 1; z)
    const cases: [number, number, number, number][] = [
      [0.243 + 2, 2.426 + 2, 0.793 + 2.426 + 2 - 1, 39 / (4.414 + 38.86 + 39)],
      [0.243 + 25, 2.426 + 25, 0.793 + 2.426 + 25 - 1, 0.8],
      [0.793 + 2.426 - 1 - 0.243, 0.793 - 1, 0.793 + 2.426 + 7 - 1, 0.97],
      [1.98, -0.21, 3.22, 0.985],
      [0.525 + 3, 1.614 + 3 + 1, 0.891 + 1.614 + 3, 0.6],
    ];
    for (const [a, b, c, z] of cases) {
      expect(relativeError(hyp2f1(a, b, c, z), slowSeries(a, b, c, z, 200_000))).toBeLessThan(1e-11);
    }
  });

  it('throws instead of returning a wrong number', () => {
    expectModelError(() => hyp2f1(1, 1, 2, 1.5), 'NUMERIC_FAILURE'); // branch cut
    expectModelError(() => hyp2f1(1, 1, 2, 1), 'NUMERIC_FAILURE'); // diverges at z = 1
    expectModelError(() => hyp2f1(1, 1, -2, 0.5), 'NUMERIC_FAILURE'); // c a pole
    expectModelError(() => hyp2f1(Number.NaN, 1, 2, 0.5), 'NUMERIC_FAILURE');
    // c − a − b an integer rules out the 1 − z connection formula; 10 terms cannot reach full precision at z = 0.999
    expectModelError(() => hyp2f1(1, 1, 2, 0.999, { maxTerms: 10 }), 'NUMERIC_FAILURE');
    expectModelError(() => hyp2f1Series(1, 1, 2, 0.999, { maxTerms: 1000 }), 'NUMERIC_FAILURE');
  });
});
