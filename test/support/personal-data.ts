import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@crm/clickhouse';

const at = '2026-03-01T10:00:00.000Z';

/** One row per personal-data table for the customer (defaults for the columns that do not matter here). */
export async function seedCustomer(clickhouse: ClickHouseClient, customer: string, anonymous: string, strangerOnDevice?: string): Promise<void> {
  const insert = (table: string, values: Record<string, unknown>[]) => clickhouse.insert({ table, values, format: 'JSONEachRow' });
  await insert('orders', [{ event_id: randomUUID(), occurred_at: at, order_id: `o-${customer}`, customer_id: customer, status: 'paid', placed_at: at, currency: 'USD', fx_rate: '1' }]);
  await insert('clicks', [
    { event_id: randomUUID(), occurred_at: at, anonymous_id: anonymous, customer_id: null, session_id: 's', type: 'page_view' },
    { event_id: randomUUID(), occurred_at: at, anonymous_id: anonymous, customer_id: customer, session_id: 's', type: 'login' },
    ...(strangerOnDevice ? [{ event_id: randomUUID(), occurred_at: at, anonymous_id: anonymous, customer_id: strangerOnDevice, session_id: 't', type: 'login' }] : []),
  ]);
  await insert('identity_links', [{ anonymous_id: anonymous, customer_id: customer, linked_at: at, event_id: randomUUID() }]);
  await insert('tickets', [{ event_id: randomUUID(), occurred_at: at, ticket_id: `t-${customer}`, customer_id: customer, status: 'opened', category: 'complaint', priority: 'low', channel: 'email' }]);
  await insert('surveys', [{ event_id: randomUUID(), occurred_at: at, response_id: `r-${customer}`, customer_id: customer, kind: 'nps', score: 3, scale_max: 10, comment: 'slow delivery' }]);
  await insert('customer_profiles', [{ customer_id: customer, first_seen_at: at, last_seen_at: at, as_of: at, updated_at: at }]);
  await insert('customer_scores_history', [{ customer_id: customer, as_of: at, updated_at: at }]);
  await insert('segment_changes', [{ event_id: randomUUID(), customer_id: customer, segment_type: 'rfm', to: 'champions', as_of: at, changed_at: at }]);
}

