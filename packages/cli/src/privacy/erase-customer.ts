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
 * suppression list first, so ingest stops storing their events as soon as it refreshes the
 * list, then deletes their rows from every table that holds them, then announces the erasure.
 * Safe to repeat: a second run deletes what arrived meanwhile and announces again.
 */
export async function eraseCustomer(
  clickhouse: ClickHouseClient,
  customerId: string,
  announce: (message: Message) => Promise<void>,
  now: () => Date = () => new Date(),
): Promise<Erasure> {
  const started = Date.now();
  const anonymousIds = await stitchedAnonymousIds(clickhouse, customerId);
  const deleted = await customerRowCounts(clickhouse, customerId, anonymousIds);
  const erasedAt = now();
  const announcement: CustomerErasedEvent = { event_id: erasureEventId(customerId, erasedAt), customer_id: customerId, erased_at: erasedAt.toISOString() };
  await recordErasure(clickhouse, { customer_id: customerId, anonymous_ids: anonymousIds, erased_at: announcement.erased_at, event_id: announcement.event_id });
  await deleteCustomerRows(clickhouse, customerId, anonymousIds);
  await announce(erasureMessage(announcement));
  return { announcement, anonymousIds, deleted, ms: Date.now() - started };
}
