import type { ClickHouseClient } from '@crm/clickhouse';

/**
 * Rewrites `customer_profiles` as of `asOf`: every customer with an order
 * event at or before asOf gets a new row version. Purchases follow DESIGN.md
 * through the `purchases_as_of` view, the single place that defines them.
 * Everything is aggregated inside ClickHouse; nothing per customer crosses into Node.
 */
export async function refreshProfiles(clickhouse: ClickHouseClient, asOf: Date): Promise<void> {
  await clickhouse.command({
    query: `
      INSERT INTO customer_profiles
        (customer_id, first_seen_at, last_seen_at, first_purchase_at, last_purchase_at,
         purchases_total, revenue_total, avg_order_value, as_of, updated_at)
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
        {as_of:DateTime64(3, 'UTC')},
        now64(3)
      FROM
      (
        SELECT customer_id, min(first_event_at) AS first_seen_at, max(last_event_at) AS last_seen_at
        FROM order_states_as_of(as_of = {as_of:DateTime64(3, 'UTC')})
        GROUP BY customer_id
      ) AS seen
      LEFT JOIN
      (
        SELECT customer_id,
               toNullable(min(placed_at)) AS first_purchase_at,
               toNullable(max(placed_at)) AS last_purchase_at,
               toNullable(count()) AS purchases_total,
               toNullable(CAST(sum(value) AS Decimal(38, 4))) AS revenue_total
        FROM purchases_as_of(as_of = {as_of:DateTime64(3, 'UTC')})
        GROUP BY customer_id
      ) AS bought USING (customer_id)
      SETTINGS join_use_nulls = 1`,
    query_params: { as_of: epochSecondsText(asOf) },
    clickhouse_settings: { wait_end_of_query: 1 },
  });
}

function epochSecondsText(date: Date): string {
  return (date.getTime() / 1000).toFixed(3);
}
