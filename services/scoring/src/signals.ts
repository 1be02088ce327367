import type { ColumnOf, CUSTOMER_PROFILES } from '@crm/clickhouse';
import { AS_OF as T } from './run-context.js';

/** Days between instants are differences of UTC day numbers (DESIGN.md). */
const daysBefore = (column: string) => `(toRelativeDayNum(${T}) - toRelativeDayNum(${column}))`;
/** Windows of the profile signals (not the design's W, which is a setting). */
const CSAT_WINDOW_DAYS = 365;

/** The profile columns the signals give, each from the customer's events (`seen`) or purchases (`bought`). */
const SIGNALS = {
  customer_id: 'seen.customer_id',
  first_seen_at: 'seen.first_seen_at',
  last_seen_at: 'seen.last_seen_at',
  first_purchase_at: 'bought.first_purchase_at',
  last_purchase_at: 'bought.last_purchase_at',
  purchases_total: 'ifNull(bought.n, 0)',
  revenue_total: 'ifNull(bought.revenue, toDecimal128(0, 4))',
  avg_order_value: 'if(ifNull(bought.n, 0) = 0, NULL, CAST(round(bought.revenue / toDecimal128(bought.n, 0), 4) AS Decimal(38, 4)))',
  clicks_30d: 'seen.clicks_30d',
  sessions_30d: 'seen.sessions_30d',
  last_click_at: 'seen.last_click_at',
  open_tickets: 'seen.open_tickets',
  complaints_90d: 'seen.complaints_90d',
  open_complaints: 'seen.open_complaints',
  csat: 'seen.csat',
  last_nps: 'seen.last_nps',
} satisfies Partial<Record<ColumnOf<typeof CUSTOMER_PROFILES>, string>>;

export type SignalColumn = keyof typeof SIGNALS;
export const SIGNAL_COLUMNS = Object.keys(SIGNALS) as SignalColumn[];

/**
 * Every customer with any event at or before T and their signals, each from
 * the point-in-time view that defines it (order_states_as_of,
 * attributed_clicks_as_of, ticket_states_as_of, survey_responses_as_of; the
 * purchase signals from the run's statistics of purchases_as_of, which
 * already aggregate each buyer's purchases). Each view is read once: its
 * rows are tagged by source in one union and every signal is one conditional
 * aggregate over it (a subquery per signal would evaluate the views again).
 */
export function signalsSql(statistics: string, only: string): string {
  const none = (type: string) => `CAST(NULL AS Nullable(${type}))`;
  const open = "status IN ('opened', 'pending', 'reopened')";
  const csat = `src = 's' AND kind = 'csat' AND ${daysBefore('last_at')} < ${CSAT_WINDOW_DAYS}`;
  // An old answer says nothing about the customer now: it neither alerts nor blocks recovery.
  const nps = `src = 's' AND kind = 'nps' AND ${daysBefore('last_at')} < {nps_window_days:UInt32}`;
  return `
  SELECT ${Object.entries(SIGNALS).map(([column, expression]) => `${expression} AS ${column}`).join(',\n    ')}
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
           toNullable(first_purchase_at) AS first_purchase_at,
           toNullable(last_purchase_at) AS last_purchase_at,
           toNullable(purchases) AS n,
           toNullable(revenue) AS revenue
    FROM ${statistics}
    ${only}
  ) AS bought ON bought.customer_id = seen.customer_id`;
}
