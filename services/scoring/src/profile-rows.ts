import { columnList, columnNames, CUSTOMER_PROFILES, CUSTOMER_SCORES_HISTORY, type ColumnOf } from '@crm/clickhouse';
import type { ScoringParameters } from './parameters.js';
import { AS_OF, dateParam, WRITE_SETTINGS, type RunContext } from './run-context.js';
import { onlyCustomers } from './scope.js';
import { rfmSegmentSql, VALUE_TIERS } from './segments.js';
import { SIGNAL_COLUMNS, type SignalColumn } from './signals.js';

/**
 * DESIGN.md's lifecycle stages, first match wins. "Reactivated": within the
 * reactivation days of the purchase that brought a churned customer back —
 * the first purchase after the last run that judged them churned, or one after
 * a gap longer than the window — after which they are judged like anyone
 * else. Leaving churned or at_risk needs churn_probability the hysteresis
 * margin below the stage's threshold, so a customer near it does not flip.
 * Reads columns purchases_total, days_since_first, days_since_reactivation,
 * previous_stage, churn_probability, frequency.
 */
export const LIFECYCLE_STAGE_SQL = `multiIf(
        purchases_total = 0, 'prospect',
        days_since_first < {new_days:UInt32}, 'new',
        ifNull(days_since_reactivation < {reactivation_days:UInt32}, false), 'reactivated',
        ifNull(churn_probability >= {churn_threshold:Float64} - if(ifNull(previous_stage, '') = 'churned', {stage_hysteresis:Float64}, 0), false)
          OR frequency = 0, 'churned',
        ifNull(churn_probability >= {at_risk_threshold:Float64}
          - if(ifNull(previous_stage, '') IN ('at_risk', 'churned'), {stage_hysteresis:Float64}, 0), false), 'at_risk',
        'active')`;

/** The customer pyramid: lead ≤ c50 < iron ≤ c80 < gold ≤ c95 < platinum; none without a clv. */
export function valueTierSql(clv: string, cuts: string): string {
  const tiers = `[${VALUE_TIERS.map((t) => `'${t}'`).join(', ')}]`;
  return `if(purchases_total = 0 OR ${clv} IS NULL, NULL, arrayElement(${tiers}, 1 + arrayCount(c -> ${clv} > c, ${cuts})))`;
}

/**
 * The profile's columns after the signals, each an expression over the
 * inner query of profileRowsSql; the rows table has every profile column
 * and keep_tier (the worth-keeping tier: the at-risk gate, not written to profiles).
 */
const SCORED: Record<Exclude<ColumnOf<typeof CUSTOMER_PROFILES>, SignalColumn> | 'keep_tier', string> = {
  recency_days: 'recency_days',
  frequency: 'frequency',
  monetary: 'monetary',
  r_score: 'r_score',
  f_score: 'f_score',
  m_score: 'm_score',
  rfm_segment: `multiIf(purchases_total = 0, 'prospect', frequency = 0, 'lost', ${rfmSegmentSql('r_score', 'f_score')})`,
  lifecycle_stage: LIFECYCLE_STAGE_SQL,
  value_tier: valueTierSql('clv', 'tier_cuts'),
  keep_tier: valueTierSql('clv_alive', 'keep_cuts'),
  p_alive: 'p_alive',
  churn_probability: 'churn_probability',
  expected_purchases_90d: 'expected_90d',
  clv_12m: 'clv',
  clv_alive_12m: 'clv_alive',
  as_of: AS_OF,
  updated_at: 'now64(3)',
};

/** The scoring_runs row whose cut points score the rows (`{basis_as_of}`). */
export const BASIS_RUN = "scoring_runs FINAL WHERE as_of = {basis_as_of:DateTime64(3, 'UTC')}";

/**
 * The profile rows as of T: the signals table, the per-run scores table (statistics and
 * model predictions), RFM scores from the exact quintile cut points of the
 * scoring run `{basis_as_of}` (for a full run, its own, recorded by
 * recordRun over the customers with a purchase in the window), the
 * segment grid, value tiers from that run's exact 50/80/95 % clv quantiles,
 * the worth-keeping tier (the same pyramid over clv_alive_12m) and the
 * lifecycle stage (which also looks at the stages each customer had in the
 * runs before T). `scopeTable` restricts everything to its customers.
 */
function profileRowsSql(signalsTable: string, scoresTable: string, scopeTable?: string): string {
  // One scalar subquery for the cut-point arrays (each subquery is a query of its own).
  const cuts = `(SELECT (r_cuts, f_cuts, m_cuts, tier_cuts, keep_cuts) FROM ${BASIS_RUN})`;
  return `
    WITH
      ${cuts} AS cuts,
      tupleElement(cuts, 1) AS r_cuts,
      tupleElement(cuts, 2) AS f_cuts,
      tupleElement(cuts, 3) AS m_cuts,
      tupleElement(cuts, 4) AS tier_cuts,
      tupleElement(cuts, 5) AS keep_cuts
    SELECT
      ${[...SIGNAL_COLUMNS, ...Object.entries(SCORED).map(([column, expression]) => (expression === column ? column : `${expression} AS ${column}`))].join(',\n      ')}
    FROM
    (
      SELECT
        ${SIGNAL_COLUMNS.map((c) => `base.${c} AS ${c}`).join(', ')},
        sc.recency_days AS recency_days,
        ifNull(sc.frequency, 0) AS frequency,
        ifNull(sc.monetary, toDecimal128(0, 4)) AS monetary,
        sc.days_since_first AS days_since_first,
        -- The day of the purchase that brought the customer back: after the last churned run, or after a gap > W.
        greatest(ifNull(sc.return_after_gap_day, 0),
                 if(prev.last_churned_at IS NULL, 0, toRelativeDayNum(arrayFirst(t -> t > prev.last_churned_at, sc.day_last_ats)))) AS return_day,
        if(return_day = 0, NULL, toRelativeDayNum(${AS_OF}) - return_day) AS days_since_reactivation,
        sc.p_alive AS p_alive,
        1 - sc.p_alive AS churn_probability,
        sc.expected_90d AS expected_90d,
        sc.clv AS clv,
        sc.clv_alive AS clv_alive,
        if(ifNull(sc.frequency, 0) = 0, NULL, toUInt8(1 + arrayCount(c -> sc.recency_days < c, r_cuts))) AS r_score,
        if(ifNull(sc.frequency, 0) = 0, NULL, toUInt8(1 + arrayCount(c -> sc.frequency > c, f_cuts))) AS f_score,
        if(ifNull(sc.frequency, 0) = 0, NULL, toUInt8(1 + arrayCount(c -> sc.monetary > c, m_cuts))) AS m_score,
        prev.stage AS previous_stage
      FROM ${signalsTable} AS base
      LEFT JOIN ${scoresTable} AS sc ON sc.customer_id = base.customer_id
      LEFT JOIN
      (
        SELECT customer_id, argMax(lifecycle_stage, as_of) AS stage,
               if(countIf(lifecycle_stage = 'churned') = 0, NULL, maxIf(as_of, lifecycle_stage = 'churned')) AS last_churned_at
        FROM customer_scores_history
        WHERE as_of < ${AS_OF} ${scopeTable ? `AND customer_id IN ${scopeTable}` : ''}
        GROUP BY customer_id
      ) AS prev ON prev.customer_id = base.customer_id
    )
    SETTINGS join_use_nulls = 1`;
}

/** The profile rows (signals, segments, tiers, stages) in a scratch table; cut points are those of the run `basisAsOf`. */
export async function profileRows(
  ctx: RunContext,
  tables: { signals: string; scores: string; scopeTable?: string },
  asOf: Date,
  basisAsOf: Date,
  parameters: ScoringParameters,
): Promise<string> {
  const rows = ctx.table('rows');
  await ctx.command(`CREATE TABLE ${rows} ENGINE = ${ctx.engine()} AS ${profileRowsSql(tables.signals, tables.scores, tables.scopeTable)}`, {
    as_of: dateParam(asOf),
    basis_as_of: dateParam(basisAsOf),
    new_days: parameters.newCustomerDays,
    reactivation_days: parameters.reactivationDays,
    churn_threshold: parameters.churnThreshold,
    at_risk_threshold: parameters.atRiskThreshold,
    stage_hysteresis: parameters.stageHysteresis,
  });
  ctx.phase('profile rows (signals, segments, tiers, stages)');
  return rows;
}

/** How many rows (customers) a rows table holds. */
export async function rowCount(ctx: RunContext, rows: string): Promise<number> {
  const [count] = await ctx.select<{ n: string | number }>(`SELECT count() AS n FROM ${rows}`);
  return Number(count?.n ?? 0);
}

/**
 * Whether a result may replace the customer's profile: not when it was
 * already written from newer data (an incremental update that landed while a
 * full run was computing), and not when a buyer's result has no model scores
 * while their profile has (a result without a model never replaces one with
 * it). Otherwise the older result writes neither the profile nor its changes.
 * Reads the columns customer_id, p_alive and purchases_total; binds {as_of}.
 */
export const NOT_SUPERSEDED = `customer_id NOT IN (SELECT customer_id FROM customer_profiles WHERE as_of > ${AS_OF})
  AND (p_alive IS NOT NULL OR purchases_total = 0 OR customer_id NOT IN (SELECT customer_id FROM customer_profiles WHERE p_alive IS NOT NULL))`;

/** The rows into customer_profiles, except those superseded (NOT_SUPERSEDED). */
export async function writeProfiles(ctx: RunContext, rows: string, asOf: Date): Promise<void> {
  const columns = columnList(CUSTOMER_PROFILES);
  await ctx.command(`INSERT INTO ${CUSTOMER_PROFILES.name} (${columns}) SELECT ${columns} FROM ${rows} WHERE ${NOT_SUPERSEDED} SETTINGS ${WRITE_SETTINGS}`, { as_of: dateParam(asOf) });
}

/** The rows into customer_scores_history (full runs only: history is per full run). */
export async function writeHistory(ctx: RunContext, rows: string): Promise<void> {
  // Typed as profile columns: a history row is a projection of a profile row.
  const columns = columnList(CUSTOMER_PROFILES, columnNames(CUSTOMER_SCORES_HISTORY));
  await ctx.command(`INSERT INTO ${CUSTOMER_SCORES_HISTORY.name} (${columns}) SELECT ${columns} FROM ${rows} SETTINGS ${WRITE_SETTINGS}`);
}
