/**
 * Test-only brute force for BG/NBD and MBG/NBD: integrates the individual-level
 * model over the mixing distributions λ ~ Gamma(r, α) and p ~ Beta(a, b)
 * numerically, with double-exponential quadrature (tanh-sinh on (0, 1) for p,
 * exp-sinh on (0, ∞) for λ), straight from the model's story:
 *
 *   BG/NBD:  alive at T: (1−p)^x λ^x e^{−λT};  dropped after the purchase at t_x: p (1−p)^{x−1} λ^x e^{−λ t_x} (x > 0)
 *   MBG/NBD: alive at T: (1−p)^{x+1} λ^x e^{−λT}; dropped after the purchase at t_x: p (1−p)^x λ^x e^{−λ t_x}
 *   an alive customer buys (1 − e^{−λpt})/p times on average in the next t.
 *
 * No gamma, beta or hypergeometric function is used: even the prior's
 * normalising constant is integrated numerically. So agreement with the
 * closed forms checks the published formulas and their implementation.
 */
import type { CustomerSummary, TransactionModelName, TransactionParams } from '../src/index.js';

export interface BruteForceResult {
  logLikelihood: number;
  pAlive: number;
  /** E[purchases in (T, T+t] | x, t_x, T] for each requested t. */
  expected: number[];
}

const H = 1 / 16;
// τ ∈ [−5.5, 5.5]: the λ^{r−1} mass cut off below λ = scale·e^{−(π/2)sinh 5.5} is about e^{−192 r}.
const K = 88;

interface Node {
  log: number; // log of the node value
  log1m?: number; // log(1 − node) for p
  logWeight: number;
  value: number;
}

function pNodes(): Node[] {
  const nodes: Node[] = [];
  for (let k = -K; k <= K; k++) {
    const tau = k * H;
    const s = (Math.PI / 2) * Math.sinh(tau);
    const logP = -Math.log1p(Math.exp(-2 * s));
    const log1mP = -Math.log1p(Math.exp(2 * s));
    // dp/dτ = π cosh τ · p (1 − p)
    nodes.push({ log: logP, log1m: log1mP, logWeight: Math.log(H * Math.PI * Math.cosh(tau)) + logP + log1mP, value: Math.exp(logP) });
  }
  return nodes;
}

function lambdaNodes(scale: number): Node[] {
  const nodes: Node[] = [];
  for (let k = -K; k <= K; k++) {
    const tau = k * H;
    const u = (Math.PI / 2) * Math.sinh(tau);
    const logLambda = Math.log(scale) + u;
    // dλ/dτ = λ · (π/2) cosh τ
    nodes.push({ log: logLambda, logWeight: Math.log(H * (Math.PI / 2) * Math.cosh(tau)) + logLambda, value: Math.exp(logLambda) });
  }
  return nodes;
}

/** Accumulates Σ e^{v} stably (running maximum). */
class LogSum {
  private max = Number.NEGATIVE_INFINITY;
  private sum = 0;
  add(v: number): void {
    if (v === Number.NEGATIVE_INFINITY) return;
    if (v <= this.max) {
      this.sum += Math.exp(v - this.max);
    } else {
      this.sum = this.sum * Math.exp(this.max - v) + 1;
      this.max = v;
    }
  }
  get log(): number {
    return this.max + Math.log(this.sum);
  }
}

export function bruteForce(
  model: TransactionModelName,
  params: TransactionParams,
  c: CustomerSummary,
  horizons: readonly number[],
): BruteForceResult {
  const { r, alpha, a, b } = params;
  const { x, t_x, T } = c;
  const ps = pNodes();
  const lambdas = lambdaNodes((r + x + 0.5) / (alpha + t_x));
  const prior = new LogSum();
  const alive = new LogSum();
  const dead = new LogSum();
  const future = horizons.map(() => new LogSum());
  for (const p of ps) {
    const logP = p.log;
    const log1mP = p.log1m as number;
    const priorP = p.logWeight + (a - 1) * logP + (b - 1) * log1mP;
    const aliveP = model === 'bgnbd' ? x * log1mP : (x + 1) * log1mP;
    const deadP = model === 'bgnbd' ? (x > 0 ? logP + (x - 1) * log1mP : Number.NEGATIVE_INFINITY) : logP + x * log1mP;
    for (const l of lambdas) {
      const lambda = l.value;
      const priorPoint = priorP + l.logWeight + (r - 1) * l.log - alpha * lambda;
      prior.add(priorPoint);
      const aliveLog = priorPoint + aliveP + x * l.log - lambda * T;
      alive.add(aliveLog);
      dead.add(priorPoint + deadP + x * l.log - lambda * t_x);
      horizons.forEach((t, i) => {
        const rate = -Math.expm1(-lambda * p.value * t) / p.value;
        future[i]?.add(aliveLog + Math.log(rate));
      });
    }
  }
  const logTotal = Math.max(alive.log, dead.log) + Math.log1p(Math.exp(-Math.abs(alive.log - dead.log)));
  return {
    logLikelihood: logTotal - prior.log,
    pAlive: Math.exp(alive.log - logTotal),
    expected: future.map((f) => Math.exp(f.log - logTotal)),
  };
}
