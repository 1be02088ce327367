import { CHURN_RETENTION_RUNS, COHORT_RETENTION_RUNS, newestSnapshot, REVENUE_CONCENTRATION_RUNS, SATISFACTION_RUNS, type ClickHouseClient } from '@crm/clickhouse';

/**
 * Every SQL the web service runs, in one place. Ids and names travel as query
 * parameters; only identifiers picked from the fixed maps below are spliced.
 * Each read is an aggregate in ClickHouse or bounded by a LIMIT, so pages stay
 * fast however many customers there are.
 */

export type Row = Record<string, unknown>;

export async function rows<T = Row>(clickhouse: ClickHouseClient, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const result = await clickhouse.query({
    query,
    query_params: params,
    format: 'JSONEachRow',
    // 64-bit integers come unquoted from the client's own settings (createClickHouse).
    clickhouse_settings: { output_format_json_quote_decimals: 0 },
  });
  return result.json<T>();
}

/** Segment types of the API and the profile column each is read from (docs/EVENTS.md `segment_type`). */
export const SEGMENT_COLUMNS = { rfm: 'rfm_segment', lifecycle: 'lifecycle_stage', tier: 'value_tier' } as const;
export type SegmentType = keyof typeof SEGMENT_COLUMNS;
export const isSegmentType = (type: string): type is SegmentType => Object.hasOwn(SEGMENT_COLUMNS, type);

/** Sort keys of the at-risk list → the expression sorted on. */
export const AT_RISK_SORTS = {
  clv: 'clv_12m',
  churn: 'churn_probability',
  since: 'since',
  last_purchase: 'last_purchase_at',
} as const;
export type AtRiskSort = keyof typeof AT_RISK_SORTS;

const PROFILE_FIELDS = `customer_id, first_seen_at, last_seen_at, first_purchase_at, last_purchase_at, purchases_total,
  revenue_total, avg_order_value, clicks_30d, sessions_30d, open_tickets, complaints_90d, open_complaints, csat, last_nps,
  recency_days, frequency, monetary, r_score, f_score, m_score, rfm_segment, lifecycle_stage, value_tier,
  p_alive, churn_probability, expected_purchases_90d, clv_12m, clv_alive_12m, as_of, updated_at`;

export const profile = (ch: ClickHouseClient, id: string) =>
  rows(ch, `SELECT ${PROFILE_FIELDS} FROM customer_profiles FINAL WHERE customer_id = {id:String} LIMIT 1`, { id });

export const riskState = (ch: ClickHouseClient, id: string) =>
  rows(ch, 'SELECT state, since, drivers, churn_probability, value_tier, clv_12m, alerted FROM at_risk_customers WHERE customer_id = {id:String} LIMIT 1', { id });

export function segmentMembers(ch: ClickHouseClient, type: SegmentType, name: string, after: string, limit: number) {
  return rows(
    ch,
    `SELECT customer_id, rfm_segment, lifecycle_stage, value_tier, clv_12m, last_purchase_at
     FROM customer_profiles FINAL
     WHERE ${SEGMENT_COLUMNS[type]} = {name:String} AND customer_id > {after:String}
     ORDER BY customer_id LIMIT {limit:UInt32}`,
    { name, after, limit },
  );
}

/**
 * A page of the at-risk list. Sorted by a column of the risk state, the page is cut first and
 * only its customers' profiles are read, by key; by last purchase, every at-risk customer's
 * profile is needed to sort. Either way a customer without a profile sorts last.
 */
export async function atRisk(ch: ClickHouseClient, sort: AtRiskSort, descending: boolean, limit: number, offset: number): Promise<Row[]> {
  const order = `${AT_RISK_SORTS[sort]} ${descending ? 'DESC' : 'ASC'} NULLS LAST, customer_id`;
  if (sort === 'last_purchase') {
    return rows(
      ch,
      `SELECT a.customer_id AS customer_id, a.since AS since, a.drivers AS drivers, a.churn_probability AS churn_probability,
              a.value_tier AS value_tier, a.clv_12m AS clv_12m, a.alerted AS alerted, p.last_purchase_at AS last_purchase_at,
              p.revenue_total AS revenue_total
       FROM at_risk_customers AS a
       LEFT JOIN (SELECT customer_id, last_purchase_at, revenue_total FROM customer_profiles FINAL
                  WHERE customer_id IN (SELECT customer_id FROM at_risk_customers)) AS p ON p.customer_id = a.customer_id
       ORDER BY ${order} LIMIT {limit:UInt32} OFFSET {offset:UInt32}`,
      { limit, offset },
    );
  }
  const page = await rows(
    ch,
    `SELECT customer_id, since, drivers, churn_probability, value_tier, clv_12m, alerted FROM at_risk_customers
     ORDER BY ${order} LIMIT {limit:UInt32} OFFSET {offset:UInt32}`,
    { limit, offset },
  );
  if (page.length === 0) return page;
  const profiles = await rows(
    ch,
    'SELECT customer_id, last_purchase_at, revenue_total FROM customer_profiles FINAL WHERE customer_id IN {ids:Array(String)}',
    { ids: page.map((r) => String(r.customer_id)) },
  );
  const byId = new Map(profiles.map((p) => [String(p.customer_id), p]));
  return page.map((r) => ({ ...r, last_purchase_at: byId.get(String(r.customer_id))?.last_purchase_at ?? null, revenue_total: byId.get(String(r.customer_id))?.revenue_total ?? null }));
}

/** Churned customers by the value they had: win-back candidates, the valuable first. */
export const churnedByValue = (ch: ClickHouseClient, limit: number) =>
  rows(
    ch,
    `SELECT customer_id, value_tier, clv_12m, revenue_total, purchases_total, last_purchase_at
     FROM customer_profiles FINAL WHERE lifecycle_stage = 'churned'
     ORDER BY revenue_total DESC, customer_id LIMIT {limit:UInt32}`,
    { limit },
  );

export const churnedByTier = (ch: ClickHouseClient) =>
  rows(
    ch,
    `SELECT ifNull(value_tier, 'none') AS tier, count() AS customers, sum(revenue_total) AS revenue_total
     FROM customer_profiles FINAL WHERE lifecycle_stage = 'churned' GROUP BY tier ORDER BY revenue_total DESC`,
  );

export const totals = (ch: ClickHouseClient) =>
  rows(
    ch,
    `SELECT count() AS customers, countIf(purchases_total > 0) AS buyers, sum(revenue_total) AS net_revenue,
            round(sum(ifNull(clv_12m, 0)), 2) AS customer_equity, max(as_of) AS as_of
     FROM customer_profiles FINAL`,
  );

/** Share of net revenue from the top 20 % of buyers (the 80/20 rule), as of the newest full run. */
export const topFifthShare = (ch: ClickHouseClient) =>
  rows(ch, `SELECT top20_share_pct, computed_at FROM ${newestSnapshot(REVENUE_CONCENTRATION_RUNS)} LIMIT 1`);

export const equityTrend = (ch: ClickHouseClient) =>
  rows(
    ch,
    `SELECT as_of, round(sum(ifNull(clv_12m, 0)), 2) AS customer_equity FROM customer_scores_history
     GROUP BY as_of ORDER BY as_of DESC LIMIT 36`,
  );

export const pyramid = (ch: ClickHouseClient) =>
  rows(
    ch,
    `SELECT value_tier AS tier, count() AS customers, sum(revenue_total) AS revenue_total, round(sum(ifNull(clv_12m, 0)), 2) AS clv_12m
     FROM customer_profiles FINAL WHERE value_tier IS NOT NULL GROUP BY tier`,
  );

export const lifecycleMix = (ch: ClickHouseClient) =>
  rows(ch, 'SELECT lifecycle_stage AS stage, count() AS customers FROM customer_profiles FINAL GROUP BY stage ORDER BY customers DESC');

export const rfmGrid = (ch: ClickHouseClient) =>
  rows(ch, 'SELECT r_score, f_score, rfm_segment, customers, monetary_avg FROM rfm_grid WHERE f_score IS NOT NULL LIMIT 25');

// As of the newest full run (dashboard aggregates): each view is a pass over all history, purchases or surveys.
export const churnMonthly = (ch: ClickHouseClient) =>
  rows(
    ch,
    `SELECT toString(month) AS month, active_at_start, churned, churn_rate_pct, retention_rate_pct FROM ${newestSnapshot(CHURN_RETENTION_RUNS)}
     ORDER BY month DESC LIMIT 24`,
  );

export const cohorts = (ch: ClickHouseClient) =>
  rows(
    ch,
    `WITH snapshot AS ${newestSnapshot(COHORT_RETENTION_RUNS)}
     SELECT toString(cohort_month) AS cohort, months_since_first, cohort_size, retention_pct FROM snapshot
     WHERE cohort_month >= (SELECT addMonths(max(cohort_month), -11) FROM snapshot) AND months_since_first <= 12
     ORDER BY cohort, months_since_first LIMIT 200`,
  );

export const satisfaction = (ch: ClickHouseClient) =>
  rows(
    ch,
    `SELECT toString(month) AS month, csat_responses, csat_satisfied_pct, nps_responses, nps, csat_csi, nps_csi
     FROM ${newestSnapshot(SATISFACTION_RUNS)} ORDER BY month DESC LIMIT 24`,
  );

export const scoreHistory = (ch: ClickHouseClient, id: string) =>
  rows(
    ch,
    `SELECT as_of, p_alive, churn_probability, clv_12m, rfm_segment, lifecycle_stage, value_tier FROM customer_scores_history
     WHERE customer_id = {id:String} ORDER BY as_of DESC LIMIT 60`,
    { id },
  );

export const recentOrders = (ch: ClickHouseClient, id: string) =>
  rows(
    ch,
    `SELECT order_id, argMax(status, occurred_at) AS status, any(placed_at) AS placed_at, argMax(total, occurred_at) AS total,
            argMax(refunded_amount, occurred_at) AS refunded_amount, any(currency) AS currency
     FROM orders WHERE customer_id = {id:String} GROUP BY order_id ORDER BY placed_at DESC LIMIT 20`,
    { id },
  );

export const recentTickets = (ch: ClickHouseClient, id: string) =>
  rows(
    ch,
    `SELECT ticket_id, argMax(status, occurred_at) AS status, any(category) AS category, any(priority) AS priority, min(occurred_at) AS opened_at
     FROM tickets WHERE customer_id = {id:String} GROUP BY ticket_id ORDER BY opened_at DESC LIMIT 20`,
    { id },
  );

export const recentSurveys = (ch: ClickHouseClient, id: string) =>
  rows(
    ch,
    `SELECT response_id, argMax(kind, occurred_at) AS kind, argMax(score, occurred_at) AS score, argMax(scale_max, occurred_at) AS scale_max,
            max(occurred_at) AS answered_at
     FROM surveys WHERE customer_id = {id:String} GROUP BY response_id ORDER BY answered_at DESC LIMIT 20`,
    { id },
  );

export const publishedEvents = (ch: ClickHouseClient, id: string) =>
  rows(
    ch,
    `SELECT toString(event_id) AS event_id, segment_type, \`from\`, \`to\`, as_of, drivers FROM segment_changes
     WHERE customer_id = {id:String} AND publish ORDER BY as_of DESC, changed_at DESC LIMIT 30`,
    { id },
  );

export const lastFullRun = (ch: ClickHouseClient) =>
  rows(ch, 'SELECT as_of, customers, baseline, finished_at, mbgnbd_fit_as_of, gamma_gamma_fit_as_of FROM scoring_runs ORDER BY as_of DESC LIMIT 1');

export const recentFits = (ch: ClickHouseClient) =>
  rows(
    ch,
    `SELECT as_of, model, params, standard_errors, log_likelihood, converged, error, customers, iterations, fitted_at
     FROM model_fits ORDER BY fitted_at DESC LIMIT 10`,
  );

/** How fresh each output is: the newest row of each table, and how many seconds ago. */
export const freshness = (ch: ClickHouseClient) =>
  rows(
    ch,
    `SELECT output, newest, if(newest = 0, NULL, dateDiff('second', newest, now64(3))) AS age_seconds FROM (
       SELECT 'orders' AS output, max(ingested_at) AS newest FROM orders
       UNION ALL SELECT 'clicks', max(ingested_at) FROM clicks
       UNION ALL SELECT 'tickets', max(ingested_at) FROM tickets
       UNION ALL SELECT 'surveys', max(ingested_at) FROM surveys
       UNION ALL SELECT 'customer_profiles', max(updated_at) FROM customer_profiles
       UNION ALL SELECT 'customer_scores_history', max(as_of) FROM customer_scores_history
       UNION ALL SELECT 'segment_changes', max(changed_at) FROM segment_changes
     ) ORDER BY output`,
  );

export const ping = (ch: ClickHouseClient) => rows(ch, 'SELECT 1 AS ok');
