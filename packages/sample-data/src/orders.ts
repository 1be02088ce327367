import type { OrderEvent } from '@crm/events';
import { pick, seededRandom, seededUuid } from './random.js';

export interface OrderSampleOptions {
  seed: number;
  customers: number;
  /** Orders are placed in the `days` before `end`. */
  end: Date;
  days?: number;
  /** Share of events sent a second time (re-delivery), 0..1. */
  duplicateShare?: number;
  /** Prefix of customer and order ids, so samples can be told apart. */
  idPrefix?: string;
}

const CATEGORIES = ['apparel', 'shoes', 'home', 'beauty', 'electronics', 'books', 'toys', 'garden'] as const;
const DAY = 86_400_000;

/**
 * A realistic, seeded order stream: heavy-tailed orders per customer (most buy
 * once or twice, a few often), orders moving placed → paid → shipped →
 * delivered, some cancelled, some partly or fully refunded, and re-delivered
 * duplicates. Events are in production order (per order, by time).
 */
export function generateOrderEvents(options: OrderSampleOptions): OrderEvent[] {
  const random = seededRandom(options.seed);
  const days = options.days ?? 730;
  const prefix = options.idPrefix ?? 'demo';
  const endMs = options.end.getTime();
  const events: OrderEvent[] = [];

  for (let c = 0; c < options.customers; c++) {
    const customerId = `${prefix}-c${String(c + 1).padStart(5, '0')}`;
    // Pareto-like tail: P(orders > k) ~ k^-1.6.
    const orders = Math.max(1, Math.min(60, Math.floor(1 / Math.pow(1 - random(), 1 / 1.6))));
    const firstDay = Math.floor(random() * days);
    const channel = pick(random, ['web', 'web', 'app', 'app', 'store', 'marketplace'] as const);
    // Customers differ in how much they spend (log-normal level), as real ones do.
    const spendLevel = Math.exp(0.6 * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
    for (let o = 0; o < orders; o++) {
      const placedMs = endMs - (firstDay - Math.floor((random() * firstDay * o) / orders)) * DAY - Math.floor(random() * DAY);
      const orderId = `${prefix}-o${String(c + 1).padStart(5, '0')}-${o + 1}`;
      const items = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
        sku: `SKU-${Math.floor(random() * 5000)}`,
        category: pick(random, CATEGORIES),
        quantity: 1 + Math.floor(random() * 3),
        unit_price: Math.round((500 + random() * random() * 20000) * spendLevel) / 100,
      }));
      const total = Math.round(items.reduce((sum, i) => sum + i.quantity * i.unit_price, 0) * 100) / 100;
      const base = {
        schema_version: 1 as const,
        order_id: orderId,
        customer_id: customerId,
        placed_at: new Date(placedMs).toISOString(),
        total,
        refunded_amount: 0,
        currency: 'USD',
        channel,
        payment_method: pick(random, ['credit', 'credit', 'credit', 'prepaid', 'cash'] as const),
        items,
      };
      const fate = random();
      const steps: { status: OrderEvent['status']; refunded?: number }[] = [{ status: 'placed' }];
      if (fate < 0.08) steps.push({ status: 'cancelled' });
      else {
        steps.push({ status: 'paid' }, { status: 'shipped' }, { status: 'delivered' });
        if (fate > 0.97) steps.push({ status: 'refunded', refunded: total });
        else if (fate > 0.92) steps.push({ status: 'refunded', refunded: Math.round(total * 30) / 100 });
      }
      let at = placedMs;
      for (const step of steps) {
        // Later steps have not happened yet at `end`.
        if (at > endMs) break;
        events.push({
          ...base,
          event_id: seededUuid(random),
          occurred_at: new Date(at).toISOString(),
          status: step.status,
          refunded_amount: step.refunded ?? 0,
        });
        at += Math.floor(random() * 2 * DAY) + 60_000;
      }
    }
  }
  const duplicates = Math.floor(events.length * (options.duplicateShare ?? 0.03));
  for (let i = 0; i < duplicates; i++) events.push(events[Math.floor(random() * events.length)]!);
  return events;
}
