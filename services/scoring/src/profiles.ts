import type { ClickHouseClient } from '@crm/clickhouse';

/** `{as_of}` in every view call: the run's instant, bound server-side. */
const T = "{as_of:DateTime64(3, 'UTC')}";
/** Days between instants are differences of UTC day numbers (DESIGN.md). */
const daysBefore = (column: string) => `(toRelativeDayNum(${T}) - toRelativeDayNum(${column}))`;

/**
 * Rewrites `customer_profiles` as of `asOf`: every customer with any event at
 * or before asOf gets a new row version. Each signal comes from the
 * point-in-time views that define it (purchases_as_of, attributed_clicks_as_of,
 * ticket_states_as_of, survey_responses_as_of). Everything is aggregated
 * inside ClickHouse; nothing per customer crosses into Node.
 */
export const REFRESH_PROFILES_SQL = `
  INSERT INTO customer_profiles
    (customer_id, first_seen_at, last_seen_at, first_purchase_at, last_purchase_at, purchases_total, revenue_total,
     avg_order_value, clicks_30d, sessions_30d, last_click_at, open_tickets, complaints_90d, csat, last_nps, as_of, updated_at)
  SELECT
    seen.customer_id,
    seen.first_seen_at,
    seen.last_seen_at,
    bought.first_purchase_at,
    bought.last_purchase_at,
    ifNull(bought.purchases_total, 0),
    ifNull(bought.revenue_total, toDecimal128(0, 4)),
    if(ifNull(bought.purchases_total, 0) = 0, NULL,
       CAST(round(bought.revenue_total / toDecimal128(bought.purchases_total, 0), 4) AS Decimal(38, 4))),
    ifNull(clk.clicks_30d, 0),
    ifNull(clk.sessions_30d, 0),
    clk.last_click_at,
    ifNull(tk.open_tickets, 0),
    ifNull(tk.complaints_90d, 0),
    sv.csat,
    sv.last_nps,
    ${T},
    now64(3)
  FROM
  (
    SELECT customer_id, min(first_at) AS first_seen_at, max(last_at) AS last_seen_at
    FROM
    (
      SELECT customer_id, first_event_at AS first_at, last_event_at AS last_at FROM order_states_as_of(as_of = ${T})
      UNION ALL SELECT customer_id, occurred_at, occurred_at FROM attributed_clicks_as_of(as_of = ${T})
      UNION ALL SELECT customer_id, opened_at, updated_at FROM ticket_states_as_of(as_of = ${T})
      UNION ALL SELECT customer_id, answered_at, answered_at FROM survey_responses_as_of(as_of = ${T})
    )
    GROUP BY customer_id
  ) AS seen
  LEFT JOIN
  (
    SELECT customer_id,
           toNullable(min(placed_at)) AS first_purchase_at,
           toNullable(max(placed_at)) AS last_purchase_at,
           toNullable(count()) AS purchases_total,
           toNullable(CAST(sum(value) AS Decimal(38, 4))) AS revenue_total
    FROM purchases_as_of(as_of = ${T})
    GROUP BY customer_id
  ) AS bought USING (customer_id)
  LEFT JOIN
  (
    SELECT customer_id,
           toNullable(countIf(${daysBefore('occurred_at')} < 30)) AS clicks_30d,
           toNullable(uniqExactIf(session_id, ${daysBefore('occurred_at')} < 30)) AS sessions_30d,
           toNullable(max(occurred_at)) AS last_click_at
    FROM attributed_clicks_as_of(as_of = ${T})
    GROUP BY customer_id
  ) AS clk USING (customer_id)
  LEFT JOIN
  (
    SELECT customer_id,
           toNullable(countIf(status IN ('opened', 'pending', 'reopened'))) AS open_tickets,
           toNullable(countIf(category = 'complaint' AND ${daysBefore('opened_at')} < 90)) AS complaints_90d
    FROM ticket_states_as_of(as_of = ${T})
    GROUP BY customer_id
  ) AS tk USING (customer_id)
  LEFT JOIN
  (
    SELECT customer_id,
           if(countIf(kind = 'csat' AND ${daysBefore('answered_at')} < 365) = 0, NULL,
              100 * countIf(kind = 'csat' AND ${daysBefore('answered_at')} < 365 AND score >= scale_max - 1)
                  / countIf(kind = 'csat' AND ${daysBefore('answered_at')} < 365)) AS csat,
           if(countIf(kind = 'nps') = 0, NULL, argMaxIf(score, (answered_at, response_id), kind = 'nps')) AS last_nps
    FROM survey_responses_as_of(as_of = ${T})
    GROUP BY customer_id
  ) AS sv USING (customer_id)
  SETTINGS join_use_nulls = 1`;

export async function refreshProfiles(clickhouse: ClickHouseClient, asOf: Date): Promise<void> {
  await clickhouse.command({
    query: REFRESH_PROFILES_SQL,
    query_params: { as_of: (asOf.getTime() / 1000).toFixed(3) },
    clickhouse_settings: { wait_end_of_query: 1 },
  });
}
