import type { ClickHouseClient } from '@crm/clickhouse';
import { rfmSegmentSql, VALUE_TIERS } from './segments.js';

/** `{as_of}` in every view call: the run's instant, bound server-side. */
const T = "{as_of:DateTime64(3, 'UTC')}";
/** Days between instants are differences of UTC day numbers (DESIGN.md). */
const daysBefore = (column: string) => `(toRelativeDayNum(${T}) - toRelativeDayNum(${column}))`;
/** Windows of the profile signals (not the design's W, which is a setting). */
const CSAT_WINDOW_DAYS = 365;

/**
 * Every customer with any event at or before T and their signals, each from
 * the point-in-time view that defines it (purchases_as_of — materialised once
 * per full run as `purchases` —, order_states_as_of, attributed_clicks_as_of,
 * ticket_states_as_of, survey_responses_as_of). Each view is read once: its
 * rows are tagged by source in one union and every signal is one conditional
 * aggregate over it (a subquery per signal would evaluate the views again).
 */
const signalsSql = (purchases: string, only: string) => {
  const none = (type: string) => `CAST(NULL AS Nullable(${type}))`;
  const open = "status IN ('opened', 'pending', 'reopened')";
  const csat = `src = 's' AND kind = 'csat' AND ${daysBefore('last_at')} < ${CSAT_WINDOW_DAYS}`;
  // An old answer says nothing about the customer now: it neither alerts nor blocks recovery.
  const nps = `src = 's' AND kind = 'nps' AND ${daysBefore('last_at')} < {nps_window_days:UInt32}`;
  return `
  SELECT
    seen.customer_id AS customer_id,
    seen.first_seen_at AS first_seen_at,
    seen.last_seen_at AS last_seen_at,
    bought.first_purchase_at AS first_purchase_at,
    bought.last_purchase_at AS last_purchase_at,
    ifNull(bought.n, 0) AS purchases_total,
    ifNull(bought.revenue, toDecimal128(0, 4)) AS revenue_total,
    if(ifNull(bought.n, 0) = 0, NULL, CAST(round(bought.revenue / toDecimal128(bought.n, 0), 4) AS Decimal(38, 4))) AS avg_order_value,
    seen.clicks_30d AS clicks_30d,
    seen.sessions_30d AS sessions_30d,
    seen.last_click_at AS last_click_at,
    seen.open_tickets AS open_tickets,
    seen.complaints_90d AS complaints_90d,
    seen.open_complaints AS open_complaints,
    seen.csat AS csat,
    seen.last_nps AS last_nps
  FROM
  (
    SELECT
      customer_id,
      min(first_at) AS first_seen_at,
      max(last_at) AS last_seen_at,
      countIf(src = 'c' AND ${daysBefore('last_at')} < 30) AS clicks_30d,
      uniqExactIf(session_id, src = 'c' AND ${daysBefore('last_at')} < 30) AS sessions_30d,
      if(countIf(src = 'c') = 0, NULL, maxIf(last_at, src = 'c')) AS last_click_at,
      countIf(src = 't' AND ${open}) AS open_tickets,
      countIf(src = 't' AND category = 'complaint' AND ${daysBefore('first_at')} < 90) AS complaints_90d,
      countIf(src = 't' AND category = 'complaint' AND ${open}) AS open_complaints,
      if(countIf(${csat}) = 0, NULL, 100 * countIf(${csat} AND score >= scale_max - 1) / countIf(${csat})) AS csat,
      if(countIf(${nps}) = 0, NULL, argMaxIf(score, (last_at, response_id), ${nps})) AS last_nps
    FROM
    (
      SELECT customer_id, first_event_at AS first_at, last_event_at AS last_at, 'o' AS src, ${none('String')} AS session_id,
             ${none('String')} AS status, ${none('String')} AS category, ${none('String')} AS kind, ${none('UInt8')} AS score,
             ${none('UInt8')} AS scale_max, ${none('String')} AS response_id
      FROM order_states_as_of(as_of = ${T})
      UNION ALL
      SELECT customer_id, occurred_at, occurred_at, 'c', toNullable(session_id), ${none('String')}, ${none('String')}, ${none('String')},
             ${none('UInt8')}, ${none('UInt8')}, ${none('String')}
      FROM attributed_clicks_as_of(as_of = ${T})
      UNION ALL
      SELECT customer_id, opened_at, updated_at, 't', ${none('String')}, toNullable(toString(status)), toNullable(toString(category)),
             ${none('String')}, ${none('UInt8')}, ${none('UInt8')}, ${none('String')}
      FROM ticket_states_as_of(as_of = ${T})
      UNION ALL
      SELECT customer_id, answered_at, answered_at, 's', ${none('String')}, ${none('String')}, ${none('String')}, toNullable(toString(kind)),
             toNullable(score), toNullable(scale_max), toNullable(response_id)
      FROM survey_responses_as_of(as_of = ${T})
    )
    ${only}
    GROUP BY customer_id
  ) AS seen
  LEFT JOIN
  (
    SELECT customer_id,
           toNullable(min(placed_at)) AS first_purchase_at,
           toNullable(max(placed_at)) AS last_purchase_at,
           toNullable(count()) AS n,
           toNullable(CAST(sum(value) AS Decimal(38, 4))) AS revenue
    FROM ${purchases}
    ${only}
    GROUP BY customer_id
  ) AS bought ON bought.customer_id = seen.customer_id`;
};

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

const SIGNAL_COLUMNS = [
  'customer_id', 'first_seen_at', 'last_seen_at', 'first_purchase_at', 'last_purchase_at', 'purchases_total', 'revenue_total',
  'avg_order_value', 'clicks_30d', 'sessions_30d', 'last_click_at', 'open_tickets', 'complaints_90d', 'open_complaints', 'csat', 'last_nps',
] as const;

export const PROFILE_COLUMNS = [
  'customer_id', 'first_seen_at', 'last_seen_at', 'first_purchase_at', 'last_purchase_at', 'purchases_total', 'revenue_total',
  'avg_order_value', 'clicks_30d', 'sessions_30d', 'last_click_at', 'open_tickets', 'complaints_90d', 'open_complaints', 'csat',
  'last_nps', 'recency_days', 'frequency', 'monetary', 'r_score', 'f_score', 'm_score', 'rfm_segment', 'lifecycle_stage', 'value_tier',
  'p_alive', 'churn_probability', 'expected_purchases_90d', 'clv_12m', 'clv_alive_12m', 'as_of', 'updated_at',
] as const;

/**
 * Restricts a query to the customers of an incremental update, listed in a
 * table (an id list as a query parameter would outgrow the request line).
 */
export const onlyCustomers = (scopeTable?: string) => (scopeTable ? `WHERE customer_id IN ${scopeTable}` : '');

/**
 * The profile rows as of T: signals, the per-run scores table (statistics and
 * model predictions), RFM scores from the exact quintile cut points of the
 * scoring run `{basis_as_of}` (for a full run, its own, computed by
 * recordCutPointsSql over the customers with a purchase in the window), the
 * segment grid, value tiers from that run's exact 50/80/95 % clv quantiles,
 * the worth-keeping tier (`keep_tier`, the same pyramid over clv_alive_12m:
 * the at-risk gate, not written to profiles) and the lifecycle stage (which
 * also looks at the stages each customer had in the runs before T).
 * `scopeTable` restricts everything to its customers.
 */
export function profileRowsSql(scoresTable: string, purchases: string, scopeTable?: string): string {
  const only = onlyCustomers(scopeTable);
  // One scalar subquery for the four cut-point arrays (each subquery is a query of its own).
  const cuts = "(SELECT (r_cuts, f_cuts, m_cuts, tier_cuts, keep_cuts) FROM scoring_runs FINAL WHERE as_of = {basis_as_of:DateTime64(3, 'UTC')})";
  return `
    WITH
      ${cuts} AS cuts,
      tupleElement(cuts, 1) AS r_cuts,
      tupleElement(cuts, 2) AS f_cuts,
      tupleElement(cuts, 3) AS m_cuts,
      tupleElement(cuts, 4) AS tier_cuts,
      tupleElement(cuts, 5) AS keep_cuts
    SELECT
      customer_id, first_seen_at, last_seen_at, first_purchase_at, last_purchase_at, purchases_total, revenue_total,
      avg_order_value, clicks_30d, sessions_30d, last_click_at, open_tickets, complaints_90d, open_complaints, csat, last_nps,
      recency_days, frequency, monetary, r_score, f_score, m_score,
      multiIf(purchases_total = 0, 'prospect', frequency = 0, 'lost', ${rfmSegmentSql('r_score', 'f_score')}) AS rfm_segment,
      ${LIFECYCLE_STAGE_SQL} AS lifecycle_stage,
      ${valueTierSql('clv', 'tier_cuts')} AS value_tier,
      ${valueTierSql('clv_alive', 'keep_cuts')} AS keep_tier,
      p_alive, churn_probability, expected_90d AS expected_purchases_90d, clv AS clv_12m, clv_alive AS clv_alive_12m,
      ${T} AS as_of, now64(3) AS updated_at
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
        if(return_day = 0, NULL, toRelativeDayNum(${T}) - return_day) AS days_since_reactivation,
        sc.p_alive AS p_alive,
        1 - sc.p_alive AS churn_probability,
        sc.expected_90d AS expected_90d,
        sc.clv AS clv,
        sc.clv_alive AS clv_alive,
        if(ifNull(sc.frequency, 0) = 0, NULL, toUInt8(1 + arrayCount(c -> sc.recency_days < c, r_cuts))) AS r_score,
        if(ifNull(sc.frequency, 0) = 0, NULL, toUInt8(1 + arrayCount(c -> sc.frequency > c, f_cuts))) AS f_score,
        if(ifNull(sc.frequency, 0) = 0, NULL, toUInt8(1 + arrayCount(c -> sc.monetary > c, m_cuts))) AS m_score,
        prev.stage AS previous_stage
      FROM (${signalsSql(purchases, only)}) AS base
      LEFT JOIN ${scoresTable} AS sc ON sc.customer_id = base.customer_id
      LEFT JOIN
      (
        SELECT customer_id, argMax(lifecycle_stage, as_of) AS stage,
               if(countIf(lifecycle_stage = 'churned') = 0, NULL, maxIf(as_of, lifecycle_stage = 'churned')) AS last_churned_at
        FROM customer_scores_history
        WHERE as_of < ${T} ${scopeTable ? `AND customer_id IN ${scopeTable}` : ''}
        GROUP BY customer_id
      ) AS prev ON prev.customer_id = base.customer_id
    )
    SETTINGS join_use_nulls = 1`;
}

/**
 * A full run's population cut points, recorded in scoring_runs before its
 * profile rows are built (incremental updates then reuse them): exact RFM
 * quintiles over customers with a purchase in the window, exact 50/80/95 %
 * clv quantiles over buyers (and of clv_alive, for the worth-keeping tier),
 * which fits it scored with and whether it is the baseline.
 */
export function recordCutPointsSql(scoresTable: string): string {
  return `
    INSERT INTO scoring_runs (as_of, r_cuts, f_cuts, m_cuts, tier_cuts, keep_cuts, customers, mbgnbd_fit_as_of, gamma_gamma_fit_as_of, baseline,
                              finished_at)
    SELECT
      {as_of:DateTime64(3, 'UTC')},
      (SELECT arrayMap(v -> toFloat64(v), quantilesExact(0.2, 0.4, 0.6, 0.8)(recency_days)) FROM ${scoresTable} WHERE frequency > 0),
      (SELECT arrayMap(v -> toFloat64(v), quantilesExact(0.2, 0.4, 0.6, 0.8)(frequency)) FROM ${scoresTable} WHERE frequency > 0),
      (SELECT quantilesExact(0.2, 0.4, 0.6, 0.8)(monetary) FROM ${scoresTable} WHERE frequency > 0),
      (SELECT quantilesExact(0.5, 0.8, 0.95)(assumeNotNull(clv)) FROM ${scoresTable} WHERE clv IS NOT NULL),
      (SELECT quantilesExact(0.5, 0.8, 0.95)(assumeNotNull(clv_alive)) FROM ${scoresTable} WHERE clv_alive IS NOT NULL),
      (SELECT count() FROM ${scoresTable}),
      {mbgnbd_fit_as_of:Nullable(DateTime64(3, 'UTC'))},
      {gamma_gamma_fit_as_of:Nullable(DateTime64(3, 'UTC'))},
      {baseline:Bool},
      now64(3)`;
}

export const HISTORY_COLUMNS = [
  'as_of', 'customer_id', 'recency_days', 'frequency', 'monetary', 'r_score', 'f_score', 'm_score', 'rfm_segment', 'lifecycle_stage',
  'value_tier', 'p_alive', 'churn_probability', 'expected_purchases_90d', 'clv_12m', 'clv_alive_12m', 'purchases_total', 'revenue_total',
  'updated_at',
] as const;
