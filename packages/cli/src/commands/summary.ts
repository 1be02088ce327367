import type { ClickHouseClient } from '@crm/clickhouse';
import { runSql } from './sql.js';

/** The readable summary `crm demo` ends with: the customer base and its best customers. */
export async function printSummary(clickhouse: ClickHouseClient, out: NodeJS.WritableStream): Promise<void> {
  const show = async (title: string, query: string) => {
    out.write(`\n${title}\n`);
    await runSql(clickhouse, query, 'PrettyCompactMonoBlock', out);
  };
  await show(
    'Customers',
    `SELECT count() AS customers,
            countIf(purchases_total > 0) AS buyers,
            sum(purchases_total) AS purchases,
            toString(sum(revenue_total)) AS net_revenue,
            toString(round(sum(revenue_total) / greatest(sum(purchases_total), 1), 2)) AS avg_order_value
     FROM customer_profiles FINAL`,
  );
  await show(
    'RFM segments',
    `SELECT rfm_segment, count() AS customers, toString(round(sum(monetary), 2)) AS monetary_in_window
     FROM customer_profiles FINAL GROUP BY rfm_segment ORDER BY customers DESC`,
  );
  await show(
    'Customer pyramid (value tiers by 12-month CLV) and lifecycle stages',
    `SELECT ifNull(value_tier, '-') AS value_tier, count() AS customers, round(avg(clv_12m), 2) AS avg_clv_12m,
            countIf(lifecycle_stage = 'active') AS active, countIf(lifecycle_stage = 'new') AS new,
            countIf(lifecycle_stage = 'at_risk') AS at_risk, countIf(lifecycle_stage = 'churned') AS churned
     FROM customer_profiles FINAL
     GROUP BY value_tier
     ORDER BY indexOf(['platinum', 'gold', 'iron', 'lead'], value_tier) = 0, indexOf(['platinum', 'gold', 'iron', 'lead'], value_tier)`,
  );
  await show(
    'Top 10 customers by net revenue',
    `SELECT customer_id, purchases_total AS purchases, toString(revenue_total) AS net_revenue,
            toDate(last_purchase_at) AS last_purchase, rfm_segment, value_tier, round(p_alive, 3) AS p_alive, round(clv_12m, 2) AS clv_12m
     FROM customer_profiles FINAL
     ORDER BY revenue_total DESC, customer_id
     LIMIT 10`,
  );
}
