/**
 * A seeded simulator for the customer-base models: a small PRNG
 * (xoshiro128** seeded through splitmix32), samplers for the exponential,
 * normal, gamma, beta and Poisson distributions, and customer histories drawn
 * from BG/NBD, MBG/NBD and Gamma-Gamma parameters. The same seed always gives
 * the same customers, on any platform (only 32-bit integer arithmetic and
 * IEEE doubles are used).
 */
import { ModelError } from './errors.js';
import type { GammaGammaParams } from './gamma-gamma.js';
import { logGamma } from './special-functions.js';
import type { CustomerSummary, TransactionModelName, TransactionParams } from './transaction-model.js';

export interface Rng {
  /** A uniform double in the open interval (0, 1), 53 random bits. */
  next(): number;
  /** A uniform 32-bit unsigned integer. */
  uint32(): number;
}

/** xoshiro128** with its 128-bit state filled by splitmix32 from `seed`. */
export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed)) throw new ModelError('INVALID_INPUT', `seed ${seed}: must be a finite number`);
  let sm = Math.trunc(seed) | 0;
  const splitmix32 = (): number => {
    sm = (sm + 0x9e3779b9) | 0;
    let t = sm ^ (sm >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    return (t ^ (t >>> 15)) >>> 0;
  };
  let s0 = splitmix32();
  let s1 = splitmix32();
  let s2 = splitmix32();
  let s3 = splitmix32();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));
  const uint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };
  const next = (): number => {
    for (;;) {
      const value = ((uint32() >>> 5) * 67108864 + (uint32() >>> 6)) / 9007199254740992;
      if (value > 0) return value;
    }
  };
  return { next, uint32 };
}

/** Exponential with the given rate (mean 1/rate); +Infinity for rate 0. */
export function sampleExponential(rng: Rng, rate: number): number {
  return -Math.log(rng.next()) / rate;
}

/** Standard normal (Marsaglia's polar method). */
export function sampleNormal(rng: Rng): number {
  for (;;) {
    const u = 2 * rng.next() - 1;
    const v = 2 * rng.next() - 1;
    const s = u * u + v * v;
    if (s > 0 && s < 1) return u * Math.sqrt((-2 * Math.log(s)) / s);
  }
}

/** ln of a Gamma(shape, 1) draw; stays finite for tiny shapes where the draw itself underflows. */
export function sampleLogGamma(rng: Rng, shape: number): number {
  if (!(shape > 0) || !Number.isFinite(shape)) throw new ModelError('INVALID_INPUT', `gamma shape ${shape}: must be > 0`);
  if (shape < 1) {
    // Γ(k) = Γ(k+1) · U^{1/k}
    return sampleLogGamma(rng, shape + 1) + Math.log(rng.next()) / shape;
  }
  // Marsaglia & Tsang (2000)
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = sampleNormal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
      return Math.log(d) + Math.log(v);
    }
  }
}

/** Gamma with the given shape and rate (mean shape/rate). */
export function sampleGamma(rng: Rng, shape: number, rate: number): number {
  return Math.exp(sampleLogGamma(rng, shape)) / rate;
}

/** Beta(a, b), drawn as X/(X+Y) in log space so that tiny shapes do not give 0/0. */
export function sampleBeta(rng: Rng, a: number, b: number): number {
  const lx = sampleLogGamma(rng, a);
  const ly = sampleLogGamma(rng, b);
  return 1 / (1 + Math.exp(ly - lx));
}

/** Poisson with the given mean: multiplication method below 10, PTRS (Hörmann 1993) above. */
export function samplePoisson(rng: Rng, mean: number): number {
  if (!(mean >= 0) || !Number.isFinite(mean)) throw new ModelError('INVALID_INPUT', `Poisson mean ${mean}: must be finite ≥ 0`);
  if (mean === 0) return 0;
  if (mean < 10) {
    const limit = Math.exp(-mean);
    let k = 0;
    let product = rng.next();
    while (product > limit) {
      k++;
      product *= rng.next();
    }
    return k;
  }
  const slam = Math.sqrt(mean);
  const loglam = Math.log(mean);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng.next() - 0.5;
    const v = rng.next();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -mean + k * loglam - logGamma(k + 1)) return k;
  }
}

export type ObservationLength = number | readonly number[] | { min: number; max: number };

export interface TransactionSimulationOptions {
  customers: number;
  /**
   * Each customer's T (time from the first purchase to the end of
   * observation): one value for all, one per customer, or uniform in
   * [min, max] (whole days, inclusive, when `wholeDays`).
   */
  T: ObservationLength;
  seed: number;
  /**
   * Also count each customer's purchases in (T, T + horizon] (default 0: none),
   * to check conditional expectations against what actually happens.
   */
  horizon?: number;
  /**
   * Report purchase days instead of purchase times (as the pipeline does):
   * times are floored to whole days, purchases on one day collapse into one
   * (those on day 0 into the first purchase). Off by default, because the
   * models are continuous-time: with it the data only approximately follow them.
   */
  wholeDays?: boolean;
}

export interface SimulatedCustomer extends CustomerSummary {
  /** The customer's latent purchase rate λ. */
  lambda: number;
  /** The customer's latent dropout probability p. */
  p: number;
  /** Whether the customer was still alive at T. */
  aliveAtT: boolean;
  /** Purchases (or purchase days) in (T, T + horizon]. */
  futurePurchases: number;
}

function observationLength(spec: ObservationLength, i: number, rng: Rng, wholeDays: boolean): number {
  if (typeof spec === 'number') return spec;
  if ('min' in spec) {
    if (wholeDays) return spec.min + Math.floor(rng.next() * (Math.floor(spec.max) - Math.ceil(spec.min) + 1));
    return spec.min + rng.next() * (spec.max - spec.min);
  }
  const value = spec[i];
  if (value === undefined) throw new ModelError('INVALID_INPUT', `T has ${spec.length} entries for more customers`);
  return value;
}

const MAX_EVENTS_PER_CUSTOMER = 10_000_000;

/**
 * Draws customers from BG/NBD ('bgnbd') or MBG/NBD ('mbgnbd') with the given
 * parameters: λ ~ Gamma(r, α), p ~ Beta(a, b); purchases follow a Poisson
 * process with rate λ; after each repeat purchase (and, for MBG/NBD, right
 * after the first purchase at time 0) the customer drops out with probability p.
 */
export function simulateTransactions(
  model: TransactionModelName,
  params: TransactionParams,
  options: TransactionSimulationOptions,
): SimulatedCustomer[] {
  const { customers, seed } = options;
  const horizon = options.horizon ?? 0;
  const wholeDays = options.wholeDays ?? false;
  if (!Number.isInteger(customers) || customers < 0) {
    throw new ModelError('INVALID_INPUT', `customers ${customers}: must be a non-negative integer`);
  }
  if (!(horizon >= 0) || !Number.isFinite(horizon)) throw new ModelError('INVALID_INPUT', `horizon ${horizon}: must be finite ≥ 0`);
  if (Array.isArray(options.T) && options.T.length !== customers) {
    throw new ModelError('INVALID_INPUT', `T has ${options.T.length} entries for ${customers} customers`);
  }
  for (const [name, value] of Object.entries(params)) {
    if (!(value > 0) || !Number.isFinite(value)) throw new ModelError('INVALID_PARAMETERS', `${name} = ${value}: must be > 0`);
  }
  const rng = createRng(seed);
  const result: SimulatedCustomer[] = [];
  for (let i = 0; i < customers; i++) {
    const T = observationLength(options.T, i, rng, wholeDays);
    if (!(T >= 0) || !Number.isFinite(T)) throw new ModelError('INVALID_INPUT', `customer ${i}: T = ${T} must be finite ≥ 0`);
    const lambda = sampleGamma(rng, params.r, params.alpha);
    const p = sampleBeta(rng, params.a, params.b);
    const end = T + horizon;
    let droppedAt = Number.POSITIVE_INFINITY;
    if (model === 'mbgnbd' && rng.next() < p) droppedAt = 0;
    let x = 0;
    let tx = 0;
    let future = 0;
    let lastDay = 0;
    let time = 0;
    let events = 0;
    while (droppedAt === Number.POSITIVE_INFINITY) {
      time += sampleExponential(rng, lambda);
      if (!(time <= end)) break;
      if (++events > MAX_EVENTS_PER_CUSTOMER) {
        throw new ModelError('INVALID_PARAMETERS', `customer ${i}: more than ${MAX_EVENTS_PER_CUSTOMER} purchases (λ = ${lambda})`);
      }
      const stamp = wholeDays ? Math.floor(time) : time;
      const counts = !wholeDays || stamp > lastDay;
      if (counts) {
        if (stamp <= T) {
          x++;
          tx = stamp;
        } else {
          future++;
        }
        lastDay = stamp;
      }
      if (rng.next() < p) droppedAt = time;
    }
    result.push({ x, t_x: tx, T, lambda, p, aliveAtT: droppedAt > T, futurePurchases: future });
  }
  return result;
}

export function simulateBgnbd(params: TransactionParams, options: TransactionSimulationOptions): SimulatedCustomer[] {
  return simulateTransactions('bgnbd', params, options);
}

export function simulateMbgnbd(params: TransactionParams, options: TransactionSimulationOptions): SimulatedCustomer[] {
  return simulateTransactions('mbgnbd', params, options);
}

export interface SimulatedSpend {
  x: number;
  /** Mean value of the x repeat purchases (0 when x = 0). */
  mbar: number;
  /** The customer's latent mean transaction value p/ν. */
  meanValue: number;
}

/**
 * Draws Gamma-Gamma spend for customers with the given repeat-purchase counts:
 * ν ~ Gamma(q, v) per customer, each of the x transactions ~ Gamma(p, ν), so
 * x·m̄ ~ Gamma(p·x, ν) (drawn directly).
 */
export function simulateGammaGamma(params: GammaGammaParams, frequencies: readonly number[], options: { seed: number }): SimulatedSpend[] {
  for (const [name, value] of Object.entries(params)) {
    if (!(value > 0) || !Number.isFinite(value)) throw new ModelError('INVALID_PARAMETERS', `${name} = ${value}: must be > 0`);
  }
  const rng = createRng(options.seed);
  return frequencies.map((x, i) => {
    if (!Number.isInteger(x) || x < 0) throw new ModelError('INVALID_INPUT', `frequency ${i} = ${x}: must be a non-negative integer`);
    const nu = sampleGamma(rng, params.q, params.v);
    const mbar = x === 0 ? 0 : sampleGamma(rng, params.p * x, nu) / x;
    return { x, mbar, meanValue: params.p / nu };
  });
}
