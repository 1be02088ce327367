import type { OrderEvent } from '@crm/events';

/** A row of `crm.orders`, as sent to ClickHouse (JSONEachRow). */
export interface OrderRow {
  event_id: string;
  occurred_at: string;
  schema_version: number;
  order_id: string;
  customer_id: string;
  status: string;
  placed_at: string;
  total: string;
  refunded_amount: string;
  currency: string;
  fx_rate: string;
  channel: string;
  payment_method: string;
  items: { sku: string; category: string; quantity: number; unit_price: string }[];
  source_partition: number;
  source_offset: string;
}

/** Instants go to ClickHouse as UTC epoch milliseconds; amounts as decimal text so none is rounded by a float. */
export function toOrderRow(event: OrderEvent, fxRate: number, source: { partition: number; offset: string }): OrderRow {
  return {
    event_id: event.event_id,
    occurred_at: epochMillisText(event.occurred_at),
    schema_version: event.schema_version,
    order_id: event.order_id,
    customer_id: event.customer_id,
    status: event.status,
    placed_at: epochMillisText(event.placed_at),
    total: decimalText(event.total),
    refunded_amount: decimalText(event.refunded_amount),
    currency: event.currency,
    fx_rate: fxRate.toFixed(8),
    channel: event.channel,
    payment_method: event.payment_method,
    items: event.items.map((i) => ({ sku: i.sku, category: i.category, quantity: i.quantity, unit_price: decimalText(i.unit_price) })),
    source_partition: source.partition,
    source_offset: source.offset,
  };
}

function epochMillisText(iso: string): string {
  const ms = Date.parse(iso);
  // DateTime64(3) parses "seconds.millis" exactly, independent of the server's timezone.
  return (ms / 1000).toFixed(3);
}

function decimalText(n: number): string {
  return n.toFixed(4);
}
