import { randomUUID } from 'node:crypto';

/**
 * One row of the `orders` table, for tests and benchmarks that write straight
 * into ClickHouse because what they check is downstream of ingest (scoring,
 * publishing). Instants are epoch milliseconds; the value is in USD.
 */
export function rawOrderRow(customer: string, placedAt: number, value: number, status = 'delivered', occurredAt = placedAt) {
  return {
    event_id: randomUUID(),
    occurred_at: (occurredAt / 1000).toFixed(3),
    schema_version: 1,
    order_id: randomUUID(),
    customer_id: customer,
    status,
    placed_at: (placedAt / 1000).toFixed(3),
    total: value.toFixed(4),
    refunded_amount: '0',
    currency: 'USD',
    fx_rate: '1',
    channel: 'web',
    payment_method: 'credit',
    items: [] as never[],
    source_partition: 0,
    source_offset: '0',
  };
}
