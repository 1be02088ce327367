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
    'Top 10 customers by net revenue',
    `SELECT customer_id, purchases_total AS purchases, toString(revenue_total) AS net_revenue,
            toDate(first_purchase_at) AS first_purchase, toDate(last_purchase_at) AS last_purchase
     FROM customer_profiles FINAL
     ORDER BY revenue_total DESC, customer_id
     LIMIT 10`,
  );
}
