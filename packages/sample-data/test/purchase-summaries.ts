import type { OrderEvent } from '@crm/events';
import type { CustomerGroup } from '@crm/models';

const DAY = 86_400_000;
const dayNumber = (iso: string) => Math.floor(Date.parse(iso) / DAY);

export interface BuyerSummary {
  customerId: string;
  x: number;
  t_x: number;
  T: number;
  recencyDays: number;
  /** Days between the last purchase day and the one before it (0 for one purchase day). */
  lastGapDays: number;
  /** Purchase days in the window (T − W, T]. */
  windowDays: number;
}

/**
 * DESIGN.md's statistics computed by hand from an event stream: the latest
 * event of an order is its state; a purchase is not cancelled and not fully
 * refunded; purchase days are UTC days; x, t_x and T as the models take them.
 */
export function buyerSummaries(events: readonly OrderEvent[], asOf: Date, windowDays = 365): { buyers: BuyerSummary[]; customers: number } {
  const latest = new Map<string, OrderEvent>();
  for (const e of events) {
    const seen = latest.get(e.order_id);
    if (!seen || e.occurred_at > seen.occurred_at || (e.occurred_at === seen.occurred_at && e.event_id > seen.event_id)) latest.set(e.order_id, e);
  }
  const days = new Map<string, Set<number>>();
  for (const e of events) days.set(e.customer_id, days.get(e.customer_id) ?? new Set());
  for (const o of latest.values()) {
    const purchase = o.status !== 'cancelled' && (o.refunded_amount < o.total || o.total === 0);
    if (purchase && Date.parse(o.placed_at) <= asOf.getTime()) days.get(o.customer_id)!.add(dayNumber(o.placed_at));
  }
  const today = Math.floor(asOf.getTime() / DAY);
  const buyers: BuyerSummary[] = [];
  for (const [customerId, set] of days) {
    if (set.size === 0) continue;
    const sorted = [...set].sort((a, b) => a - b);
    const first = sorted[0]!;
    const last = sorted.at(-1)!;
    buyers.push({
      customerId,
      x: sorted.length - 1,
      t_x: last - first,
      T: today - first,
      recencyDays: today - last,
      lastGapDays: sorted.length > 1 ? last - sorted.at(-2)! : 0,
      windowDays: sorted.filter((d) => d > today - windowDays).length,
    });
  }
  return { buyers, customers: days.size };
}

export function groupsOf(buyers: readonly BuyerSummary[]): CustomerGroup[] {
  const groups = new Map<string, CustomerGroup>();
  for (const b of buyers) {
    const key = `${b.x}/${b.t_x}/${b.T}`;
    const g = groups.get(key);
    if (g) g.count = (g.count ?? 1) + 1;
    else groups.set(key, { x: b.x, t_x: b.t_x, T: b.T, count: 1 });
  }
  return [...groups.values()];
}
