import { columnDefinitions, type Table } from '@crm/clickhouse';
import {
  clv12mFromExpectedPurchases,
  mbgnbdExpectedPurchasesIfAlive,
  type CustomerGroup,
  type GammaGammaParams,
  type TransactionParams,
} from '@crm/models';
import type { ScoringModels } from './fits.js';
import type { ScoringParameters } from './parameters.js';
import type { RunContext } from './run-context.js';

/**
 * Per-customer scores: MBG/NBD's expectation if alive is computed in Node
 * once per distinct (x, T) — it does not depend on t_x, and there are ~10×
 * fewer of them than of (x, t_x, T), let alone customers — and goes back into
 * a scratch table; each customer's row joins its (x, T) with P(alive) (a
 * closed form, in ClickHouse) and the Gamma-Gamma expected value (one
 * expression per customer, since m̄ differs between nearly all repeat buyers).
 */

/** A distinct (x, T)'s predictions if alive, as written to the run's table. */
const IF_ALIVE_PREDICTIONS = {
  name: 'if_alive',
  columns: {
    x: 'UInt32',
    T_c: 'UInt32',
    /** E[X(90) | alive]: expected_purchases_90d is this times P(alive). */
    expected_90d_alive: 'Float64',
    /** Σ_m (E[X(30m) | alive] − E[X(30(m−1)) | alive]) · margin / (1+d)^m: clv_alive_12m is this times E[value], clv_12m that times P(alive). */
    clv_alive_factor: 'Float64',
  },
} satisfies Table;
export type IfAlivePrediction = Record<keyof typeof IF_ALIVE_PREDICTIONS.columns, number>;

/**
 * MBG/NBD predictions if alive, once per distinct (x, T) of the groups.
 * CLV discounting lives only here (@crm/models): it is linear in E[value]
 * and in P(alive), so ClickHouse multiplies the factor by both.
 */
export function predictIfAlive(mbgnbd: TransactionParams, groups: readonly CustomerGroup[], params: ScoringParameters): IfAlivePrediction[] {
  const discounting = { margin: params.clvMargin, annualDiscountRate: params.clvAnnualDiscountRate };
  // Keyed by x, then T: small whole numbers, which a Map hashes fast (a combined key would not be).
  const seen = new Map<number, Set<number>>();
  const predictions: IfAlivePrediction[] = [];
  for (const g of groups) {
    let ts = seen.get(g.x);
    if (!ts) seen.set(g.x, (ts = new Set()));
    if (ts.has(g.T)) continue;
    ts.add(g.T);
    const ifAlive = (days: number) => mbgnbdExpectedPurchasesIfAlive(mbgnbd, g, days);
    predictions.push({ x: g.x, T_c: g.T, expected_90d_alive: ifAlive(90), clv_alive_factor: clv12mFromExpectedPurchases(ifAlive, 1, discounting) });
  }
  return predictions;
}

/**
 * MBG/NBD's P(alive | x, t_x, T) over columns, the SQL form of
 * `mbgnbdProbabilityAlive` in @crm/models (test/formulas.test.ts evaluates
 * both on the same inputs): 1 / (1 + e^k) with the log-odds of having
 * dropped out k = ln(a / (b + x)) + (r + x) · ln(1 + (T − t_x) / (α + t_x)),
 * written as the TypeScript writes it so neither overflows. Parameters: mbgnbdSqlParameters.
 */
export function mbgnbdProbabilityAliveSql(x: string, tx: string, T: string): string {
  const k = `(log({mbg_a:Float64} / ({mbg_b:Float64} + ${x})) + ({mbg_r:Float64} + ${x}) * log1p((${T} - ${tx}) / ({mbg_alpha:Float64} + ${tx})))`;
  return `if(${k} > 0, exp(-${k}) / (1 + exp(-${k})), 1 / (1 + exp(${k})))`;
}

/** The fit as parameters of mbgnbdProbabilityAliveSql; `mbg_ok` false (no predictions) without a fit. */
export function mbgnbdSqlParameters(mbgnbd: TransactionParams | undefined): { mbg_ok: boolean; mbg_r: number; mbg_alpha: number; mbg_a: number; mbg_b: number } {
  return mbgnbd ? { mbg_ok: true, mbg_r: mbgnbd.r, mbg_alpha: mbgnbd.alpha, mbg_a: mbgnbd.a, mbg_b: mbgnbd.b } : { mbg_ok: false, mbg_r: 1, mbg_alpha: 1, mbg_a: 1, mbg_b: 1 };
}

/**
 * Gamma-Gamma's E[M | x, m̄] = p·(v + x·m̄) / (p·x + q − 1) over columns, the
 * SQL form of `gammaGammaExpectedValue` in @crm/models (test/formulas.test.ts
 * evaluates both on the same inputs). At x = 0 it is the population mean
 * p·v/(q − 1), whatever m̄. Parameters: gammaGammaSqlParameters.
 */
export function gammaGammaExpectedValueSql(x: string, mbar: string): string {
  return `{gg_p:Float64} * ({gg_v:Float64} + ${x} * ${mbar}) / ({gg_p:Float64} * ${x} + {gg_q:Float64} - 1)`;
}

/** The fit as parameters of gammaGammaExpectedValueSql; `gg_ok` false (no values) without a fit with a finite mean (q > 1). */
export function gammaGammaSqlParameters(gg: GammaGammaParams | undefined): { gg_ok: boolean; gg_p: number; gg_q: number; gg_v: number } {
  return gg !== undefined && gg.q > 1 ? { gg_ok: true, gg_p: gg.p, gg_q: gg.q, gg_v: gg.v } : { gg_ok: false, gg_p: 1, gg_q: 2, gg_v: 0 };
}

/**
 * The per-customer scores table of a run: the statistics, P(alive), the
 * (x, T)'s predictions if alive and the expected value per purchase day,
 * with clv and clv_alive. Without an MBG/NBD fit the predictions (and so clv) are NULL.
 */
export async function customerScores(ctx: RunContext, stats: string, groups: readonly CustomerGroup[], models: ScoringModels, parameters: ScoringParameters): Promise<string> {
  const ifAliveTable = ctx.table(IF_ALIVE_PREDICTIONS.name);
  const scores = ctx.table('scores');
  await ctx.command(`CREATE TABLE ${ifAliveTable} (${columnDefinitions(IF_ALIVE_PREDICTIONS)}) ENGINE = ${ctx.engine()}`);
  if (models.mbgnbd) {
    const predictions = predictIfAlive(models.mbgnbd, groups, parameters);
    for (let i = 0; i < predictions.length; i += 100_000) {
      await ctx.clickhouse.insert({ table: ifAliveTable, values: predictions.slice(i, i + 100_000), format: 'JSONEachRow' });
    }
  }
  ctx.phase('predictions if alive per (x, T)');
  await ctx.command(
    `CREATE TABLE ${scores} ENGINE = ${ctx.engine()} AS
     SELECT s.*, if({mbg_ok:Bool}, ${mbgnbdProbabilityAliveSql('s.x', 's.t_x', 's.T_c')}, NULL) AS p_alive,
            p_alive * g.expected_90d_alive AS expected_90d,
            if({gg_ok:Bool}, ${gammaGammaExpectedValueSql('s.x', 's.m_bar')}, NULL) AS expected_value,
            p_alive * g.clv_alive_factor * expected_value AS clv,
            g.clv_alive_factor * expected_value AS clv_alive
     FROM ${stats} AS s
     LEFT JOIN ${ifAliveTable} AS g ON g.x = s.x AND g.T_c = s.T_c
     SETTINGS join_use_nulls = 1`,
    { ...mbgnbdSqlParameters(models.mbgnbd), ...gammaGammaSqlParameters(models.gammaGamma) },
  );
  ctx.phase('per-customer scores');
  return scores;
}
