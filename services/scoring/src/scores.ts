import { columnDefinitions, type Table } from '@crm/clickhouse';
import {
  clv12mFromExpectedPurchases,
  mbgnbdExpectedPurchasesIfAlive,
  mbgnbdProbabilityAlive,
  type CustomerGroup,
  type GammaGammaParams,
  type TransactionParams,
} from '@crm/models';
import type { ScoringModels } from './fits.js';
import type { ScoringParameters } from './parameters.js';
import type { RunContext } from './run-context.js';

/**
 * Per-customer scores: MBG/NBD predictions are computed in Node once per
 * distinct (x, t_x, T) — far fewer than customers — and go back into a
 * scratch table; each customer's row joins its group's predictions with the
 * Gamma-Gamma expected value (one expression per customer, in ClickHouse,
 * since m̄ differs between nearly all repeat buyers).
 */

/** A group's predictions, as written to the run's groups table. */
const GROUP_PREDICTIONS = {
  name: 'groups',
  columns: {
    x: 'UInt32',
    t_x: 'UInt32',
    T_c: 'UInt32',
    p_alive: 'Float64',
    expected_90d: 'Float64',
    /** Σ_m (E[X(30m)] − E[X(30(m−1))]) · margin / (1+d)^m: clv_12m is this times E[value]. */
    clv_factor: 'Float64',
    /** The same sum for the customer known to be alive: clv_alive_12m is this times E[value]. */
    clv_alive_factor: 'Float64',
  },
} satisfies Table;
export type GroupPrediction = Record<keyof typeof GROUP_PREDICTIONS.columns, number>;

/**
 * MBG/NBD predictions once per distinct (x, t_x, T). CLV discounting lives
 * only here (@crm/models): it is linear in E[value], so ClickHouse multiplies
 * the factor by each customer's Gamma-Gamma value.
 */
export function predictGroups(mbgnbd: TransactionParams, groups: readonly CustomerGroup[], params: ScoringParameters): GroupPrediction[] {
  const discounting = { margin: params.clvMargin, annualDiscountRate: params.clvAnnualDiscountRate };
  return groups.map((g): GroupPrediction => {
    const summary = { x: g.x, t_x: g.t_x, T: g.T };
    // E[X(t)] = P(alive) · E[X(t) | alive], and the CLV sum is linear in it: P(alive) once and the
    // expectation if alive (a quadrature for some fits) once per horizon, not twice.
    const pAlive = mbgnbdProbabilityAlive(mbgnbd, summary);
    const ifAlive = (days: number) => mbgnbdExpectedPurchasesIfAlive(mbgnbd, summary, days);
    const clvAlive = clv12mFromExpectedPurchases(ifAlive, 1, discounting);
    return {
      x: g.x,
      t_x: g.t_x,
      T_c: g.T,
      p_alive: pAlive,
      expected_90d: pAlive * ifAlive(90),
      clv_factor: pAlive * clvAlive,
      clv_alive_factor: clvAlive,
    };
  });
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
 * The per-customer scores table of a run: the statistics, the group's
 * predictions and the expected value per purchase day, with clv and
 * clv_alive. Without an MBG/NBD fit the predictions (and so clv) are NULL.
 */
export async function customerScores(ctx: RunContext, stats: string, groups: readonly CustomerGroup[], models: ScoringModels, parameters: ScoringParameters): Promise<string> {
  const groupsTable = ctx.table(GROUP_PREDICTIONS.name);
  const scores = ctx.table('scores');
  await ctx.command(`CREATE TABLE ${groupsTable} (${columnDefinitions(GROUP_PREDICTIONS)}) ENGINE = ${ctx.engine('(x, t_x, T_c)')}`);
  if (models.mbgnbd) {
    const predictions = predictGroups(models.mbgnbd, groups, parameters);
    for (let i = 0; i < predictions.length; i += 100_000) {
      await ctx.clickhouse.insert({ table: groupsTable, values: predictions.slice(i, i + 100_000), format: 'JSONEachRow' });
    }
  }
  ctx.phase('predict and write groups');
  await ctx.command(
    `CREATE TABLE ${scores} ENGINE = ${ctx.engine('customer_id')} AS
     SELECT s.*, g.p_alive AS p_alive, g.expected_90d AS expected_90d,
            if({gg_ok:Bool}, ${gammaGammaExpectedValueSql('s.x', 's.m_bar')}, NULL) AS expected_value,
            g.clv_factor * expected_value AS clv,
            g.clv_alive_factor * expected_value AS clv_alive
     FROM ${stats} AS s
     LEFT JOIN ${groupsTable} AS g ON g.x = s.x AND g.t_x = s.t_x AND g.T_c = s.T_c
     SETTINGS join_use_nulls = 1`,
    gammaGammaSqlParameters(models.gammaGamma),
  );
  ctx.phase('per-customer scores');
  return scores;
}
