import { SCHEMAS, type ClickEvent, type ClickType, type OrderEvent, type RejectionCode, type SurveyEvent, type TicketEvent } from '@crm/events';
import { FAULTS, FAULT_NAMES, INPUT_NAMES, breakEvent, faultApplies, type FaultName, type InputName } from './malformed.js';
import { seededRandom } from './random.js';
import { seasonalInstant } from './seasonality.js';

export interface LoadOptions {
  seed: number;
  /** Messages in all, malformed ones and re-deliveries included (exactly this many). */
  events: number;
  /** Messages per chunk (the last may be shorter). Default 10 000. */
  chunkSize?: number;
  /** Events happen in the `days` before `end` (later steps of an order, ticket… are cut off at `end`). Default 2026-01-01T00:00:00Z and 365. */
  end?: Date;
  days?: number;
  /** Prefix of every id (customers, devices, orders…), so runs can be told apart. Default 'load'. */
  idPrefix?: string;
  /** Share of Avro messages; the rest are JSON. Default 0.5. */
  avroShare?: number;
  /** Share of malformed messages. Default 0.005. */
  malformedShare?: number;
  /** Which faults malformed messages carry, drawn uniformly among those that fit the event. Default DEFAULT_LOAD_FAULTS. */
  faults?: readonly FaultName[];
  /** The limit the `too_large` fault exceeds (ingest's INGEST_MAX_MESSAGE_BYTES). Default 1 048 576. */
  maxMessageBytes?: number;
  /** Share of re-deliveries: a recent valid message sent again, same bytes. Default 0. */
  duplicateShare?: number;
  /** Currencies of orders and their shares. Default { USD: 1 }; every one needs a rate in ingest's CRM_FX_RATES. */
  currencies?: Readonly<Record<string, number>>;
  /** Tail index α of orders per customer, P(orders ≥ k) = k^-α. Default 1.3. */
  paretoAlpha?: number;
  /** Cap of orders per customer. Default 300. */
  maxOrdersPerCustomer?: number;
}

interface LoadMessageBase {
  /** The input stream, i.e. the kind of event: map it to a topic with topicNames(namespace)[topic]. */
  topic: InputName;
  /** customer_id (an anonymous click: its anonymous_id), as docs/INGEST.md asks. */
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

export interface ValidLoadMessage extends LoadMessageBase {
  valid: true;
  eventId: string;
  /** A second delivery of an earlier message (same bytes, same event_id). */
  redelivery: boolean;
}

export interface MalformedLoadMessage extends LoadMessageBase {
  valid: false;
  /** The code ingest dead-letters it with. */
  reason: RejectionCode;
  fault: FaultName;
}

export type LoadMessage = ValidLoadMessage | MalformedLoadMessage;

export interface LoadChunk {
  index: number;
  messages: LoadMessage[];
}

/**
 * Faults a default load carries: all but the two whose outcome depends on
 * ingest's configuration beyond its defaults (`too_large`, a megabyte each,
 * and `no_fx_rate`, which assumes CHF has no rate).
 */
export const DEFAULT_LOAD_FAULTS: readonly FaultName[] = FAULT_NAMES.filter((f) => f !== 'too_large' && f !== 'no_fx_rate');

/**
 * The shape of a load, per customer. The resulting message mix, measured over
 * 10^6 messages of the defaults, is 82.8 % clicks, 14.7 % orders, 1.7 %
 * tickets and 0.9 % surveys (the unit test checks ranges around these).
 */
export const LOAD_SHAPE = {
  /**
   * Orders per customer (in a lifetime) N = ⌊U^(-1/α)⌋ capped: a discrete Pareto, P(N ≥ k) = k^-α. α = 1.3: median 1, 59 % buy
   * once. In a year's window (measured over 8 seeds): median 1, about 80 % of buying customers place one or two orders, the
   * top 1 % of them 20–32 % of all orders.
   */
  paretoAlpha: 1.3,
  maxOrdersPerCustomer: 300,
  /**
   * Lifetime: a customer is active for days·(1 − U^(1 + ln N)) days (frequent buyers stay longer), placed uniformly among the
   * positions that overlap the window, and only what falls in the window is sent: customers arrive and leave throughout, and
   * activity is level apart from seasonality. (So N counts lifetime orders; the window sees the part of them in it.)
   * Order fates: 8 % cancelled; otherwise paid → shipped → delivered, then 5 % partly (30 %) and 3 % fully refunded.
   */
  cancelled: 0.08,
  partlyRefunded: 0.05,
  fullyRefunded: 0.03,
  /** Sessions: one buying session per order (browsing, 1–2 add_to_cart, checkout_started, order placed minutes later), geometric(mean 2) browsing sessions per order, one more per customer, and Poisson(0.6) sessions from devices that never log in. */
  browsingSessionsPerOrder: 2,
  anonymousSessionsPerCustomer: 0.6,
  /** Clicks before the cart: 1 + geometric(mean 4) browsing, 2 + geometric(mean 4) buying. */
  browsingClicks: 4,
  /** Identity: 1–3 devices per customer; a device is anonymous until its first login click (every buying session, 20 % of browsing ones), later clicks carry customer_id. */
  loginInBrowsingSession: 0.2,
  /** Tickets: 10 % of orders (50 % of refunded, 20 % of cancelled) plus 3 % of customers; opened → pending (80 %) → resolved (85 %) → closed (70 %) → reopened (5 %). */
  ticketPerOrder: 0.1,
  ticketPerCustomer: 0.03,
  /** Surveys: CSAT after 15 % of delivered orders, CES after 30 % of resolved tickets, NPS from 12 % + 3 % per order (up to 10) of customers. */
  csatPerDelivery: 0.15,
  cesPerResolvedTicket: 0.3,
} as const;

const DAY = 86_400_000;
const MINUTE = 60_000;
const CATEGORIES = ['apparel', 'shoes', 'home', 'beauty', 'electronics', 'books', 'toys', 'garden'] as const;
const QUERIES = ['sneakers', 'lamp', 'gift', 'dress', 'headphones', 'sofa', 'lego', 'serum', 'tent', 'novel'];
const PAGES = ['https://shop.example/', 'https://shop.example/sale', 'https://shop.example/new', 'https://shop.example/c/'];
const COMMENTS = ['fast delivery', 'item smaller than expected', 'great service', 'took too long', 'will buy again'];

type AnyEvent = OrderEvent | ClickEvent | TicketEvent | SurveyEvent;
/** A browser or app install: anonymous until it logs in; one session at a time. */
interface Device {
  id: string;
  known: boolean;
  sessions: number;
  busyUntil: number;
}
interface Timed {
  t: number;
  topic: InputName;
  key: string;
  event: AnyEvent;
  /** Orders: placed_at in epoch milliseconds (the Avro form). */
  placedMs: number;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const hex32 = (n: number) => HEX[n >>> 24]! + HEX[(n >>> 16) & 255]! + HEX[(n >>> 8) & 255]! + HEX[n & 255]!;
const hex16 = (n: number) => HEX[(n >>> 8) & 255]! + HEX[n & 255]!;

/** A version-4 UUID from four draws (mulberry32 yields k / 2^32, so each draw is 32 exact bits). */
function uuid(random: () => number): string {
  const a = (random() * 4294967296) >>> 0;
  const b = (((random() * 4294967296) >>> 0) & 0xffff0fff) | 0x4000;
  const c = ((((random() * 4294967296) >>> 0) & 0x3fffffff) | 0x80000000) >>> 0;
  const d = (random() * 4294967296) >>> 0;
  return `${hex32(a)}-${hex16(b >>> 16)}-${hex16(b)}-${hex16(c >>> 16)}-${hex16(c)}${hex32(d)}`;
}

const pad2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const pad3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/** toISOString, several times faster: the date part is cached per day (a window's worth of days). */
function isoFormatter(): (ms: number) => string {
  const days = new Map<number, string>();
  return (ms) => {
    const day = Math.floor(ms / DAY);
    let date = days.get(day);
    if (date === undefined) days.set(day, (date = new Date(day * DAY).toISOString().slice(0, 11)));
    const r = ms - day * DAY;
    return `${date}${pad2[Math.floor(r / 3_600_000)]}:${pad2[Math.floor(r / MINUTE) % 60]}:${pad2[Math.floor(r / 1000) % 60]}.${pad3[r % 1000]}Z`;
  };
}

/**
 * Avro single-object encoding as encodeEvent writes it (marker C3 01, fingerprint, datum), from the
 * Avro form directly and into shared slabs, which is several times faster than one encodeEvent per
 * event. Each value is a view of a slab that no other message shares.
 */
function avroEncoder(): (e: Timed) => Buffer {
  const SLAB = 1 << 20;
  const headers = Object.fromEntries(INPUT_NAMES.map((n) => [n, Buffer.concat([Buffer.from([0xc3, 0x01]), SCHEMAS[n].fingerprintBytes])])) as Record<InputName, Buffer>;
  let slab = Buffer.allocUnsafe(SLAB);
  let pos = 0;
  return (e) => {
    const topic = e.topic;
    // The Avro form differs from the JSON form only in instants (epoch milliseconds); the event is
    // ours, so it is switched to it for the write and back, rather than copied.
    const event = e.event as unknown as Record<string, unknown>;
    const occurredAt = event.occurred_at;
    const placedAt = event.placed_at;
    event.occurred_at = e.t;
    if (topic === 'orders') event.placed_at = e.placedMs;
    try {
      return write(topic, event);
    } finally {
      event.occurred_at = occurredAt;
      if (topic === 'orders') event.placed_at = placedAt;
    }
  };
  function write(topic: InputName, form: unknown): Buffer {
    for (let fresh = false; ; fresh = true) {
      const end = pos + 10 < slab.length ? SCHEMAS[topic].avro.encode(form, slab, pos + 10) : -1;
      if (end > pos) {
        headers[topic].copy(slab, pos);
        const value = slab.subarray(pos, end);
        pos = end;
        return value;
      }
      if (fresh) return Buffer.concat([headers[topic], SCHEMAS[topic].avro.toBuffer(form)]);
      slab = Buffer.allocUnsafe(SLAB);
      pos = 0;
    }
  }
}

/**
 * A seeded, streaming load for benchmarks and fault injection: realistic
 * customers (heavy-tailed activity, see LOAD_SHAPE), seasonal event times
 * (see SEASONALITY), all four input streams, JSON and Avro mixed, a share of
 * malformed messages (each tagged with the reason ingest must give) and of
 * re-deliveries.
 *
 * Messages come customer after customer, each customer's events in time
 * order; only one customer and one chunk are held at a time, so any number
 * of messages streams in bounded memory. The same options give the same
 * bytes; the chunk size does not change the sequence, and a shorter run is a
 * prefix of a longer one. The valid events do not depend on the delivery
 * options (avroShare, malformedShare, faults, duplicateShare): those draw
 * from a separate generator.
 *
 * A malformed message is an extra message made from the valid event that
 * follows it (same key, its own event_id), so every valid event is still sent.
 */
export function* generateLoad(options: LoadOptions): Generator<LoadChunk, void, undefined> {
  const total = options.events;
  const chunkSize = options.chunkSize ?? 10_000;
  const avroShare = options.avroShare ?? 0.5;
  const malformedShare = options.malformedShare ?? 0.005;
  const duplicateShare = options.duplicateShare ?? 0;
  const maxMessageBytes = options.maxMessageBytes ?? 1_048_576;
  if (!Number.isInteger(total) || total < 0) throw new Error(`events must be a non-negative integer, got ${total}`);
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new Error(`chunkSize must be a positive integer, got ${chunkSize}`);
  for (const [name, share] of Object.entries({ avroShare, malformedShare, duplicateShare })) {
    if (!(share >= 0 && share <= 1)) throw new Error(`${name} must be in [0, 1], got ${share}`);
  }
  if (malformedShare + duplicateShare >= 1) throw new Error('malformedShare + duplicateShare must be below 1');
  if (!((options.paretoAlpha ?? 1) > 0)) throw new Error(`paretoAlpha must be positive, got ${options.paretoAlpha}`);
  if (!((options.maxOrdersPerCustomer ?? 1) >= 1)) throw new Error(`maxOrdersPerCustomer must be at least 1, got ${options.maxOrdersPerCustomer}`);
  const currencyWeights = Object.values(options.currencies ?? { USD: 1 });
  if (currencyWeights.length === 0 || !currencyWeights.every((w) => w >= 0) || !currencyWeights.some((w) => w > 0)) {
    throw new Error('currencies must give at least one currency a positive share');
  }
  const faults = options.faults ?? DEFAULT_LOAD_FAULTS;
  const faultsFor = Object.fromEntries(INPUT_NAMES.map((n) => [n, faults.filter((f) => faultApplies(f, n))])) as Record<InputName, FaultName[]>;

  const customers = customerEvents(options);
  const avro = avroEncoder();
  const deliver = seededRandom((options.seed ^ 0x2545f491) >>> 0);
  // Re-deliveries repeat one of the last RECENT valid messages (a retry or a replay soon after).
  // A sliding window, so it pins no more than the last slab or two of encoded bytes.
  const recent: ValidLoadMessage[] = [];
  const RECENT = 4096;
  let sent = 0;
  let produced = 0;
  let chunk: LoadMessage[] = [];
  let index = 0;

  const encoding = () => (deliver() < avroShare ? 'avro' : 'json');
  const extra = (e: Timed): LoadMessage | undefined => {
    const u = deliver();
    if (u < malformedShare) {
      const candidates = faultsFor[e.topic];
      if (candidates.length === 0) return undefined;
      const fault = candidates[Math.floor(deliver() * candidates.length)]!;
      const broken = breakEvent(e.topic, e.event as never, fault, { eventId: uuid(deliver), random: deliver, encoding: encoding(), maxMessageBytes });
      return { topic: e.topic, key: e.key, ...broken, valid: false, reason: FAULTS[fault], fault };
    }
    if (u < malformedShare + duplicateShare && recent.length > 0) {
      const original = recent[Math.floor(deliver() * recent.length)]!;
      return { ...original, value: Buffer.from(original.value), headers: { ...original.headers }, redelivery: true };
    }
    return undefined;
  };

  while (produced < total) {
    for (const e of customers.next()) {
      for (let m = extra(e); m !== undefined && produced < total; m = extra(e)) {
        chunk.push(m);
        produced++;
        if (chunk.length === chunkSize) {
          yield { index: index++, messages: chunk };
          chunk = [];
        }
      }
      if (produced === total) break;
      const enc = encoding();
      const message: ValidLoadMessage = {
        topic: e.topic,
        key: e.key,
        value: enc === 'json' ? Buffer.from(JSON.stringify(e.event)) : avro(e),
        headers: { 'content-type': enc === 'avro' ? 'application/avro' : 'application/json' },
        valid: true,
        eventId: e.event.event_id,
        redelivery: false,
      };
      chunk.push(message);
      produced++;
      recent[sent++ % RECENT] = message;
      if (chunk.length === chunkSize) {
        yield { index: index++, messages: chunk };
        chunk = [];
      }
      if (produced === total) break;
    }
  }
  if (chunk.length > 0) yield { index, messages: chunk };
}

/** The valid events, customer after customer (`next()` gives the next customer's, in time order). */
function customerEvents(options: LoadOptions): { next(): Timed[] } {
  const r = seededRandom(options.seed >>> 0);
  const endMs = (options.end ?? new Date('2026-01-01T00:00:00Z')).getTime();
  const windowMs = (options.days ?? 365) * DAY;
  const startMs = endMs - windowMs;
  const prefix = options.idPrefix ?? 'load';
  const alpha = options.paretoAlpha ?? LOAD_SHAPE.paretoAlpha;
  const maxOrders = options.maxOrdersPerCustomer ?? LOAD_SHAPE.maxOrdersPerCustomer;
  const currencyTable = Object.entries(options.currencies ?? { USD: 1 });
  const currencyTotal = currencyTable.reduce((s, [, w]) => s + w, 0);
  const iso = isoFormatter();
  const pick = <T>(items: readonly T[]): T => items[Math.floor(r() * items.length)]!;
  const geometric = (mean: number) => Math.floor(Math.log(1 - r()) / Math.log(mean / (mean + 1)));
  const poisson = (mean: number) => {
    let k = 0;
    for (let p = r(), limit = Math.exp(-mean); p > limit; p *= r()) k++;
    return k;
  };
  const cents = (x: number) => Math.round(x * 100) / 100;
  const currency = () => {
    let u = r() * currencyTotal;
    for (const [code, w] of currencyTable) if ((u -= w) < 0) return code;
    return currencyTable[currencyTable.length - 1]![0];
  };
  let c = 0;

  return {
    next(): Timed[] {
      c++;
      const out: Timed[] = [];
      const customerId = `${prefix}-c${c}`;
      const orders = Math.min(maxOrders, Math.floor(Math.pow(1 - r(), -1 / alpha)));
      // The customer's lifetime, placed so that it overlaps the window; what falls outside is not sent.
      const lifetime = Math.max(DAY, Math.floor(windowMs * (1 - Math.pow(r(), 1 + Math.log(orders)))));
      const born = startMs - lifetime + Math.floor(r() * (windowMs + lifetime));
      const seasonal = () => seasonalInstant(r, born, born + lifetime);
      const spendLevel = Math.exp(0.6 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));
      const customerCurrency = currency();
      const channel = pick(['web', 'web', 'app', 'app', 'store', 'marketplace'] as const);
      const deviceCount = 1 + (r() < 0.35 ? 1 : 0) + (orders >= 5 && r() < 0.5 ? 1 : 0);
      const devices: Device[] = Array.from({ length: deviceCount }, (_, d) => ({ id: `${prefix}-d${c}-${d + 1}`, known: false, sessions: 0, busyUntil: 0 }));
      let tickets = 0;
      let responses = 0;
      const add = (t: number, topic: InputName, key: string, event: AnyEvent, placedMs = 0) => {
        if (t >= startMs && t <= endMs) out.push({ t, topic, key, event, placedMs });
      };

      /** One session from `start` (`visitor`: a device that never logs in); returns the time of its last click. */
      const session = (device: Device, start: number, mode: 'buying' | 'browsing' | 'visitor'): number => {
        const buying = mode === 'buying';
        const sessionId = `${device.id}-s${++device.sessions}`;
        const types: ClickType[] = [];
        const browsing = (buying ? 2 : 1) + geometric(LOAD_SHAPE.browsingClicks);
        for (let k = 0; k < browsing; k++) {
          const u = r();
          types.push(u < 0.4 ? 'page_view' : u < 0.75 ? 'product_view' : u < 0.95 ? 'search' : u < 0.99 ? 'add_to_cart' : 'remove_from_cart');
        }
        if (buying) {
          types.push('add_to_cart');
          if (r() < 0.3) types.push('add_to_cart');
          if (r() < 0.15) types.push('remove_from_cart');
          types.push('checkout_started');
        } else {
          const u = r();
          if (u < 0.08) types.push('add_to_cart');
          else if (u < 0.11) types.push('add_to_cart', 'checkout_started');
        }
        if (!device.known && mode !== 'visitor' && (buying || r() < LOAD_SHAPE.loginInBrowsingSession)) {
          // Log in somewhere before the checkout (buying) or anywhere (browsing).
          types.splice(Math.floor(r() * (buying ? types.length : types.length + 1)), 0, 'login');
        }
        const source = r();
        let t = start;
        for (let k = 0; k < types.length; k++) {
          const type = types[k]!;
          if (type === 'login') device.known = true;
          const sku = type === 'product_view' || type === 'add_to_cart' || type === 'remove_from_cart' ? Math.floor(r() * 5000) : -1;
          const query = type === 'search' ? pick(QUERIES) : null;
          const first = k === 0;
          const known = device.known ? customerId : null;
          const url =
            sku >= 0
              ? `https://shop.example/p/SKU-${sku}`
              : type === 'search'
                ? `https://shop.example/search?q=${query}`
                : type === 'login'
                  ? 'https://shop.example/login'
                  : type === 'checkout_started'
                    ? 'https://shop.example/checkout'
                    : pick(PAGES);
          const click: ClickEvent = {
            event_id: uuid(r),
            occurred_at: iso(t),
            schema_version: 1,
            anonymous_id: device.id,
            customer_id: known,
            session_id: sessionId,
            type,
            url,
            sku: sku >= 0 ? `SKU-${sku}` : null,
            category: sku >= 0 ? CATEGORIES[sku % CATEGORIES.length]! : null,
            query,
            referrer: first && source < 0.3 ? 'https://search.example/' : null,
            utm_source: first && source >= 0.3 && source < 0.45 ? 'newsletter' : first && source >= 0.45 && source < 0.55 ? 'ads' : null,
            utm_medium: first && source >= 0.3 && source < 0.45 ? 'email' : first && source >= 0.45 && source < 0.55 ? 'cpc' : null,
            utm_campaign: first && source >= 0.3 && source < 0.55 ? 'seasonal' : null,
          };
          add(t, 'clicks', known ?? device.id, click);
          if (k < types.length - 1) t += 5_000 + Math.floor(-40_000 * Math.log(1 - r()));
        }
        return t;
      };

      const ticket = (opened: number, category: TicketEvent['category']) => {
        const ticketId = `${prefix}-t${c}-${++tickets}`;
        const u = r();
        const priority = u < 0.25 ? 'low' : u < 0.75 ? 'normal' : u < 0.95 ? 'high' : 'urgent';
        const v = r();
        const channel = v < 0.35 ? 'email' : v < 0.65 ? 'chat' : v < 0.85 ? 'phone' : v < 0.95 ? 'web' : 'social';
        const path: TicketEvent['status'][] = ['opened'];
        if (r() < 0.8) {
          path.push('pending');
          if (r() < 0.85) {
            path.push('resolved');
            if (r() < 0.7) path.push('closed');
            if (r() < 0.05) path.push('reopened');
          }
        }
        let t = opened;
        for (const status of path) {
          add(t, 'tickets', customerId, { event_id: uuid(r), occurred_at: iso(t), schema_version: 1, ticket_id: ticketId, customer_id: customerId, status, category, priority, channel });
          if (status === 'resolved' && r() < LOAD_SHAPE.cesPerResolvedTicket) {
            survey(t + 3_600_000 + Math.floor(r() * 2 * DAY), 'ces', 7, 1 + Math.floor(Math.sqrt(r()) * 7), null, ticketId);
          }
          t += 3_600_000 + Math.floor(r() * 2 * DAY);
        }
      };

      const survey = (t: number, kind: SurveyEvent['kind'], scale: number, score: number, orderId: string | null, ticketId: string | null) => {
        const low = kind === 'nps' ? 0 : 1;
        add(t, 'surveys', customerId, {
          event_id: uuid(r),
          occurred_at: iso(t),
          schema_version: 1,
          response_id: `${prefix}-r${c}-${++responses}`,
          customer_id: customerId,
          kind,
          score: Math.min(scale, Math.max(low, score)),
          scale_max: scale,
          expectation: r() < 0.4 ? low + Math.floor(r() * (scale - low + 1)) : null,
          order_id: orderId,
          ticket_id: ticketId,
          comment: r() < 0.15 ? pick(COMMENTS) : null,
        });
      };

      /** The order placed a few minutes after the checkout of its buying session, and what follows it. */
      const order = (o: number, checkoutAt: number) => {
        const placedAt = checkoutAt + 30_000 + Math.floor(r() * 4.5 * MINUTE);
        const items = Array.from({ length: 1 + geometric(0.7) }, () => {
          const sku = Math.floor(r() * 5000);
          return {
            sku: `SKU-${sku}`,
            category: CATEGORIES[sku % CATEGORIES.length]!,
            quantity: r() < 0.8 ? 1 : 2 + Math.floor(r() * 3),
            unit_price: cents((5 + r() * r() * 200) * spendLevel),
          };
        });
        const total = cents(items.reduce((sum, i) => sum + i.quantity * i.unit_price, 0));
        const orderId = `${prefix}-o${c}-${o}`;
        const fate = r();
        const cancelled = fate < LOAD_SHAPE.cancelled;
        const refund = fate > 1 - LOAD_SHAPE.fullyRefunded ? total : fate > 1 - LOAD_SHAPE.fullyRefunded - LOAD_SHAPE.partlyRefunded ? cents(total * 0.3) : 0;
        const placed = iso(placedAt);
        const paymentMethod = pick(['credit', 'credit', 'credit', 'prepaid', 'cash'] as const);
        const steps: [OrderEvent['status'], number, number][] = [['placed', placedAt, 0]];
        let deliveredAt = Number.POSITIVE_INFINITY;
        if (cancelled) steps.push(['cancelled', placedAt + 10 * MINUTE + Math.floor(r() * DAY), 0]);
        else {
          const paid = placedAt + MINUTE + Math.floor(r() * 30 * MINUTE);
          const shipped = paid + Math.floor((0.3 + r() * 1.7) * DAY);
          deliveredAt = shipped + Math.floor((1 + r() * 3) * DAY);
          steps.push(['paid', paid, 0], ['shipped', shipped, 0], ['delivered', deliveredAt, 0]);
          if (refund > 0) steps.push(['refunded', deliveredAt + Math.floor((2 + r() * 18) * DAY), refund]);
        }
        for (const [status, t, refunded] of steps) {
          // A literal in schema order, not a spread: one object shape, fast to build, stringify and encode.
          const event: OrderEvent = {
            event_id: uuid(r),
            occurred_at: iso(t),
            schema_version: 1,
            order_id: orderId,
            customer_id: customerId,
            status,
            placed_at: placed,
            total,
            refunded_amount: refunded,
            currency: customerCurrency,
            channel,
            payment_method: paymentMethod,
            items,
          };
          add(t, 'orders', customerId, event, placedAt);
        }
        const ticketChance = refund > 0 ? 0.5 : cancelled ? 0.2 : LOAD_SHAPE.ticketPerOrder;
        if (r() < ticketChance) {
          const category = refund > 0 ? (r() < 0.6 ? 'return' : 'complaint') : cancelled ? (r() < 0.5 ? 'payment' : 'question') : pick(['delivery', 'delivery', 'question', 'complaint', 'technical', 'payment', 'other'] as const);
          ticket(placedAt + Math.floor((1 + r() * 9) * DAY), category);
        }
        if (deliveredAt <= endMs && r() < LOAD_SHAPE.csatPerDelivery) {
          const scale = r() < 0.7 ? 5 : 7;
          const score = refund > 0 ? 1 + Math.floor(r() * scale) : 1 + Math.floor(Math.sqrt(r()) * scale);
          survey(deliveredAt + Math.floor((1 + r() * 6) * DAY), 'csat', scale, score, orderId, null);
        }
      };

      // Sessions are planned first and played in time order, one at a time per device, so a
      // device's clicks carry the customer_id only after its first login.
      const plans: { start: number; device: Device; mode: 'buying' | 'browsing' | 'visitor' }[] = [];
      for (let o = 0; o < orders; o++) {
        plans.push({ start: seasonal(), device: r() < 0.7 ? devices[0]! : pick(devices), mode: 'buying' });
        for (let s = geometric(LOAD_SHAPE.browsingSessionsPerOrder); s > 0; s--) plans.push({ start: seasonal(), device: pick(devices), mode: 'browsing' });
      }
      plans.push({ start: seasonal(), device: pick(devices), mode: 'browsing' });
      for (let v = poisson(LOAD_SHAPE.anonymousSessionsPerCustomer); v > 0; v--) {
        plans.push({ start: seasonal(), device: { id: `${prefix}-v${c}-${v}`, known: false, sessions: 0, busyUntil: 0 }, mode: 'visitor' });
      }
      plans.sort((a, b) => a.start - b.start);
      let placed = 0;
      for (const plan of plans) {
        // A session before the window is not sent, nor the order it would have placed.
        if (plan.start < startMs || plan.start > endMs) continue;
        const last = session(plan.device, Math.max(plan.start, plan.device.busyUntil + MINUTE), plan.mode);
        plan.device.busyUntil = last;
        if (plan.mode === 'buying') order(++placed, last);
      }
      if (r() < LOAD_SHAPE.ticketPerCustomer) ticket(seasonal(), pick(['question', 'technical', 'other'] as const));
      if (r() < 0.12 + 0.03 * Math.min(orders, 10)) survey(seasonal(), 'nps', 10, Math.floor(11 * Math.pow(r(), 0.6)), null, null);

      // Stable: events at the same instant keep the order they were made in.
      return out.sort((a, b) => a.t - b.t);
    },
  };
}
