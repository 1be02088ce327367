import type { OrderEvent } from '@crm/events';
import { createRng, sampleBeta, sampleExponential, sampleGamma, sampleNormal, type Rng } from '@crm/models';
import { pick, seededUuid } from './random.js';

export interface OrderSampleOptions {
  seed: number;
  customers: number;
  end: Date;
  /** Customers are acquired (first order) in the `days` (default 730) before `end` and buy until `end`. */
  days?: number;
  /** Share of events sent a second time (re-delivery), 0..1. */
  duplicateShare?: number;
  /** Prefix of customer and order ids, so samples can be told apart. */
  idPrefix?: string;
  /** The purchase process; default DEFAULT_PURCHASE_PROCESS. */
  process?: PurchaseProcess;
}

/**
 * MBG/NBD's generative story with time in days: each customer buys at rate
 * λ ~ Gamma(r, α) (shape r, rate α; mean r/α) with exponential gaps, and
 * after every purchase (the first included) leaves for good with probability
 * p ~ Beta(a, b).
 */
export interface PurchaseProcess {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/**
 * A shop where a typical customer orders every seven weeks (mean λ = 1/50
 * per day, widely spread: r < 1 makes many slow buyers and a few frequent
 * ones) and leaves after about seven orders (mean p ≈ 0.14; some never come
 * back after the first). With customers acquired evenly over two years,
 * about half of the buyers are still active at the end — docs/METRICS.md
 * "The demo's sample" has the measured mix.
 */
export const DEFAULT_PURCHASE_PROCESS: PurchaseProcess = Object.freeze({ r: 0.8, alpha: 40, a: 0.9, b: 5.5 });

const CATEGORIES = ['apparel', 'shoes', 'home', 'beauty', 'electronics', 'books', 'toys', 'garden'] as const;
const DAY = 86_400_000;
/** Guards the sample's size against a customer drawn with an extreme rate. */
const MAX_ORDERS_PER_CUSTOMER = 200;

/**
 * One customer's order times (ms, ascending, all ≤ end): acquired at a
 * uniform instant in the `days` before `end`, then MBG/NBD's process cut at
 * `end`. Latent draws use @crm/models' samplers.
 */
export function purchaseTimes(rng: Rng, model: PurchaseProcess, endMs: number, days: number): number[] {
  const lambda = sampleGamma(rng, model.r, model.alpha);
  const p = sampleBeta(rng, model.a, model.b);
  let at = endMs - rng.next() * days * DAY;
  const times = [at];
  while (times.length < MAX_ORDERS_PER_CUSTOMER && rng.next() >= p) {
    at += sampleExponential(rng, lambda) * DAY;
    if (at > endMs) break;
    times.push(at);
  }
  return times;
}

/**
 * A realistic, seeded order stream: purchase times from MBG/NBD's process
 * (purchaseTimes), a log-normal spend level per customer, orders moving
 * placed → paid → shipped → delivered, some cancelled, some partly or fully
 * refunded, and re-delivered duplicates. Events are in production order
 * (per order, by time).
 */
export function generateOrderEvents(options: OrderSampleOptions): OrderEvent[] {
  const rng = createRng(options.seed);
  const random = () => rng.next();
  const days = options.days ?? 730;
  const prefix = options.idPrefix ?? 'demo';
  const model = options.process ?? DEFAULT_PURCHASE_PROCESS;
  const endMs = options.end.getTime();
  const events: OrderEvent[] = [];

  for (let c = 0; c < options.customers; c++) {
    const customerId = `${prefix}-c${String(c + 1).padStart(5, '0')}`;
    const times = purchaseTimes(rng, model, endMs, days);
    const channel = pick(random, ['web', 'web', 'app', 'app', 'store', 'marketplace'] as const);
    // Customers differ in how much they spend (log-normal level), as real ones do.
    const spendLevel = Math.exp(0.6 * sampleNormal(rng));
    for (const [o, time] of times.entries()) {
      const placedMs = Math.floor(time);
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
