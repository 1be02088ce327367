import type { OrderEvent } from '@crm/events';

export interface ReferenceProfile {
  purchases: number;
  /** Net revenue in cents (USD samples only), exact. */
  revenueCents: number;
}

/**
 * DESIGN.md's purchase rules, written again independently of the SQL so a
 * test compares two implementations: latest state per order by occurred_at
 * then event_id; not cancelled and not fully refunded (free orders count);
 * value = total − refunded_amount.
 */
export function referenceProfiles(events: readonly OrderEvent[], asOf = new Date(8.64e15)): Map<string, ReferenceProfile> {
  const latest = new Map<string, OrderEvent>();
  const customers = new Set<string>();
  for (const e of events) {
    if (Date.parse(e.occurred_at) > asOf.getTime()) continue;
    customers.add(e.customer_id);
    const current = latest.get(e.order_id);
    if (current === undefined || laterState(e, current)) latest.set(e.order_id, e);
  }
  const profiles = new Map<string, ReferenceProfile>([...customers].map((c) => [c, { purchases: 0, revenueCents: 0 }]));
  for (const order of latest.values()) {
    const fullyRefunded = order.refunded_amount >= order.total && order.total > 0;
    if (order.status === 'cancelled' || fullyRefunded || Date.parse(order.placed_at) > asOf.getTime()) continue;
    const profile = profiles.get(order.customer_id)!;
    profile.purchases += 1;
    profile.revenueCents += Math.round(order.total * 100) - Math.round(order.refunded_amount * 100);
  }
  return profiles;
}

function laterState(a: OrderEvent, b: OrderEvent): boolean {
  const ta = Date.parse(a.occurred_at);
  const tb = Date.parse(b.occurred_at);
  return ta !== tb ? ta > tb : a.event_id > b.event_id;
}

export function centsToDecimal4(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}00`;
}
