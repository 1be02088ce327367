import type { ClickHouseClient } from '@crm/clickhouse';

export async function uniqueOrderEvents(clickhouse: ClickHouseClient): Promise<number> {
  const result = await clickhouse.query({ query: 'SELECT uniqExact(event_id) AS n FROM orders', format: 'JSONEachRow' });
  return Number((await result.json<{ n: number }>())[0]!.n);
}

export interface ProfileRow {
  customer_id: string;
  purchases_total: number;
  revenue: string;
  first_purchase_at: string | null;
  last_purchase_at: string | null;
}

export async function profilesByCustomer(clickhouse: ClickHouseClient): Promise<Map<string, ProfileRow>> {
  const result = await clickhouse.query({
    query: `SELECT customer_id, purchases_total, toString(revenue_total) AS revenue, first_purchase_at, last_purchase_at
            FROM customer_profiles FINAL ORDER BY customer_id`,
    format: 'JSONEachRow',
  });
  return new Map((await result.json<ProfileRow>()).map((r) => [r.customer_id, r]));
}

/** One query's rows as objects (JSONEachRow). */
export async function selectRows<T>(clickhouse: ClickHouseClient, query: string, query_params: Record<string, unknown> = {}): Promise<T[]> {
  return (await clickhouse.query({ query, query_params, format: 'JSONEachRow' })).json<T>();
}
