import type { Message } from 'kafkajs';
import { customerRowCounts, deleteCustomerRows, recordErasure, stitchedAnonymousIds, type ClickHouseClient } from '@crm/clickhouse';
import { CONTENT_TYPE_JSON, encodeEvent, nameBasedUuid, type CustomerErasedEvent } from '@crm/events';

export interface Erasure {
  announcement: CustomerErasedEvent;
  anonymousIds: string[];
  /** Rows deleted, by table. */
  deleted: Record<string, number>;
  ms: number;
}

/** The announcement's id: name-based over the customer and the erasure's instant (as the outbox's ids are over as_of). */
export function erasureEventId(customerId: string, erasedAt: Date): string {
  return nameBasedUuid(customerId, erasedAt.toISOString().replace('T', ' ').replace('Z', ''));
}

/** crm.customer-erased.v1 as a Kafka message: key customer_id, JSON, with the event-id header every output topic carries. */
export function erasureMessage(event: CustomerErasedEvent): Message {
  return {
    key: event.customer_id,
    value: encodeEvent('customer-erased', event, 'json'),
    headers: { 'content-type': CONTENT_TYPE_JSON, 'event-id': event.event_id },
  };
}

/**
 * Erases a customer (docs/PRIVACY.md): puts them and their stitched anonymous ids on the
 * suppression list first, so ingest stops storing their events once it re-reads the list,
 * deletes their rows from every table that holds them, waits `settle` (long enough for ingest
 * to re-read the list and for batches decoded before it to land) and deletes again what arrived
 * meanwhile, then announces the erasure. Safe to repeat: a second run announces again.
 */
export async function eraseCustomer(
  clickhouse: ClickHouseClient,
  customerId: string,
  effects: { announce: (message: Message) => Promise<void>; settle: () => Promise<void> },
  now: () => Date = () => new Date(),
): Promise<Erasure> {
  const started = Date.now();
  const anonymousIds = await stitchedAnonymousIds(clickhouse, customerId);
  const deleted = await customerRowCounts(clickhouse, customerId, anonymousIds);
  const erasedAt = now();
  const announcement: CustomerErasedEvent = { event_id: erasureEventId(customerId, erasedAt), customer_id: customerId, erased_at: erasedAt.toISOString() };
  await recordErasure(clickhouse, { customer_id: customerId, anonymous_ids: anonymousIds, erased_at: announcement.erased_at, event_id: announcement.event_id });
  await deleteCustomerRows(clickhouse, customerId, anonymousIds);
  await effects.settle();
  const late = await customerRowCounts(clickhouse, customerId, anonymousIds);
  if (Object.values(late).some((n) => n > 0)) {
    await deleteCustomerRows(clickhouse, customerId, anonymousIds);
    for (const [table, n] of Object.entries(late)) deleted[table] = (deleted[table] ?? 0) + n;
  }
  await effects.announce(erasureMessage(announcement));
  return { announcement, anonymousIds, deleted, ms: Date.now() - started };
}
