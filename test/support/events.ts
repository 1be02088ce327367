import { randomUUID } from 'node:crypto';
import type { ClickEvent, OrderEvent, SurveyEvent, TicketEvent } from '@crm/events';
import { generateOrderEvents } from '@crm/sample-data';
import type { Outgoing } from './kafka.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** A valid click (no product, no campaign); instants are epoch milliseconds. */
export function clickEvent(anonymous: string, customer: string | null, at: number, options: { session: string; type: ClickEvent['type']; url?: string }): ClickEvent {
  return {
    event_id: randomUUID(),
    occurred_at: iso(at),
    schema_version: 1,
    anonymous_id: anonymous,
    customer_id: customer,
    session_id: options.session,
    type: options.type,
    url: options.url ?? null,
    sku: null,
    category: null,
    query: null,
    referrer: null,
    utm_source: null,
    utm_medium: null,
    utm_campaign: null,
  } as ClickEvent;
}

/** A valid order event (USD, one item) for scripted histories; instants are epoch milliseconds. */
export function orderEvent(customer: string, placedAt: number, total: number, status: OrderEvent['status'] = 'delivered', options: { orderId?: string; occurredAt?: number } = {}): OrderEvent {
  return {
    event_id: randomUUID(),
    occurred_at: iso(options.occurredAt ?? placedAt),
    schema_version: 1,
    order_id: options.orderId ?? randomUUID(),
    customer_id: customer,
    status,
    placed_at: iso(placedAt),
    total,
    refunded_amount: 0,
    currency: 'USD',
    channel: 'web',
    payment_method: 'credit',
    items: [{ sku: 'sku-1', category: 'home', quantity: 1, unit_price: total }],
  };
}

export function ticketEvent(customer: string, ticketId: string, status: TicketEvent['status'], category: TicketEvent['category'], at: number): TicketEvent {
  return { event_id: randomUUID(), occurred_at: iso(at), schema_version: 1, ticket_id: ticketId, customer_id: customer, status, category, priority: 'high', channel: 'email' };
}

export function surveyEvent(customer: string, kind: SurveyEvent['kind'], score: number, scaleMax: number, at: number): SurveyEvent {
  return {
    event_id: randomUUID(),
    occurred_at: iso(at),
    schema_version: 1,
    response_id: randomUUID(),
    customer_id: customer,
    kind,
    score,
    scale_max: scaleMax,
    expectation: null,
    order_id: null,
    ticket_id: null,
    comment: null,
  };
}

/** Events as JSON messages keyed by customer. */
export function asMessages(events: readonly { customer_id: string }[]): Outgoing[] {
  return events.map((e) => ({ key: e.customer_id, value: JSON.stringify(e) }));
}

const DAY = 86_400_000;

/**
 * A seeded shop of 200 customers with two years of orders up to yesterday, and `vip`: by far the
 * best customer (frequent, large, recent orders), so a real-time path has a platinum customer to act on.
 */
export function shopWithVip(seed: number, now: number): OrderEvent[] {
  return [
    ...generateOrderEvents({ seed, customers: 200, end: new Date(now - DAY), days: 700, idPrefix: 'pop' }),
    ...Array.from({ length: 14 }, (_, i) => orderEvent('vip', now - (2 + i * 25) * DAY, 2_500)),
  ];
}
