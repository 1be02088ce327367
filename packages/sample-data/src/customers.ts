import type { ClickEvent, ClickType, OrderEvent, SurveyEvent, TicketEvent } from '@crm/events';
import { generateOrderEvents } from './orders.js';
import { pick, seededRandom, seededUuid } from './random.js';

export interface CustomerSampleOptions {
  seed: number;
  customers: number;
  end: Date;
  days?: number;
  idPrefix?: string;
  duplicateShare?: number;
}

export interface CustomerSample {
  orders: OrderEvent[];
  clicks: ClickEvent[];
  tickets: TicketEvent[];
  surveys: SurveyEvent[];
}

const DAY = 86_400_000;
const CLICK_TYPES: readonly ClickType[] = ['page_view', 'page_view', 'page_view', 'product_view', 'product_view', 'search', 'add_to_cart', 'remove_from_cart', 'checkout_started'];

/**
 * All four streams for one seeded customer base: the orders of
 * generateOrderEvents, browsing sessions (some anonymous until a login links
 * the device to the customer), support tickets moving through their states,
 * and CSAT/NPS/CES responses. Realistic proportions: clicks far outnumber
 * orders; tickets and surveys are rarer.
 */
export function generateCustomerEvents(options: CustomerSampleOptions): CustomerSample {
  const random = seededRandom(options.seed ^ 0x5bd1e995);
  const days = options.days ?? 730;
  const prefix = options.idPrefix ?? 'demo';
  const endMs = options.end.getTime();
  const orders = generateOrderEvents({ ...options, duplicateShare: 0 });
  const clicks: ClickEvent[] = [];
  const tickets: TicketEvent[] = [];
  const surveys: SurveyEvent[] = [];
  const at = (ms: number) => new Date(Math.min(ms, endMs)).toISOString();

  for (let c = 0; c < options.customers; c++) {
    const customerId = `${prefix}-c${String(c + 1).padStart(5, '0')}`;
    const device = `${prefix}-d${String(c + 1).padStart(5, '0')}`;
    const sessions = Math.floor(1 + random() * random() * 12);
    for (let s = 0; s < sessions; s++) {
      let t = endMs - Math.floor(random() * days * DAY);
      const sessionId = `${device}-s${s + 1}`;
      // Browsing starts anonymous; a login part-way links the device to the customer.
      const loginAfter = random() < 0.6 ? Math.floor(random() * 4) : Number.POSITIVE_INFINITY;
      const clicksInSession = 1 + Math.floor(random() * 8);
      for (let k = 0; k < clicksInSession && t <= endMs; k++) {
        const known = k >= loginAfter;
        const type = k === loginAfter ? 'login' : pick(random, CLICK_TYPES);
        const sku = type === 'product_view' || type === 'add_to_cart' || type === 'remove_from_cart' ? `SKU-${Math.floor(random() * 5000)}` : null;
        clicks.push({
          event_id: seededUuid(random),
          occurred_at: at(t),
          schema_version: 1,
          anonymous_id: device,
          customer_id: known ? customerId : null,
          session_id: sessionId,
          type,
          url: `https://shop.example/${type === 'search' ? 'search' : sku ? `p/${sku}` : 'home'}`,
          sku,
          category: sku ? pick(random, ['apparel', 'shoes', 'home', 'beauty']) : null,
          query: type === 'search' ? pick(random, ['sneakers', 'lamp', 'gift', 'dress']) : null,
          referrer: s === 0 ? pick(random, ['https://search.example/', null, null]) : null,
          utm_source: s === 0 ? pick(random, ['newsletter', 'ads', null]) : null,
          utm_medium: null,
          utm_campaign: null,
        });
        t += Math.floor(random() * 300_000) + 5_000;
      }
    }

    if (random() < 0.25) {
      const opened = endMs - Math.floor(random() * days * DAY);
      const ticketId = `${prefix}-t${String(c + 1).padStart(5, '0')}`;
      const category = pick(random, ['complaint', 'question', 'question', 'return', 'delivery', 'payment', 'technical', 'other'] as const);
      const priority = pick(random, ['low', 'normal', 'normal', 'high', 'urgent'] as const);
      const channel = pick(random, ['email', 'phone', 'chat', 'social', 'web'] as const);
      const path: TicketEvent['status'][] = ['opened'];
      const fate = random();
      if (fate > 0.2) path.push('pending');
      if (fate > 0.35) path.push('resolved');
      if (fate > 0.5) path.push('closed');
      if (fate > 0.93) path.push('reopened');
      let t = opened;
      for (const status of path) {
        if (t > endMs) break;
        tickets.push({ event_id: seededUuid(random), occurred_at: at(t), schema_version: 1, ticket_id: ticketId, customer_id: customerId, status, category, priority, channel });
        t += Math.floor(random() * 3 * DAY) + 600_000;
      }
    }

    const responses = random() < 0.4 ? 1 + Math.floor(random() * 3) : 0;
    for (let s = 0; s < responses; s++) {
      const kind = pick(random, ['csat', 'csat', 'nps', 'ces'] as const);
      const scale = kind === 'csat' ? pick(random, [5, 7]) : kind === 'nps' ? 10 : 7;
      const low = kind === 'nps' ? 0 : 1;
      const score = Math.min(scale, low + Math.floor(Math.sqrt(random()) * (scale - low + 1)));
      surveys.push({
        event_id: seededUuid(random),
        occurred_at: at(endMs - Math.floor(random() * days * DAY)),
        schema_version: 1,
        response_id: `${prefix}-r${String(c + 1).padStart(5, '0')}-${s + 1}`,
        customer_id: customerId,
        kind,
        score,
        scale_max: scale,
        expectation: random() < 0.5 ? Math.min(scale, low + Math.floor(random() * (scale - low + 1))) : null,
        order_id: null,
        ticket_id: null,
        comment: random() < 0.2 ? 'free text' : null,
      });
    }
  }

  const duplicate = <T>(events: T[]): T[] => {
    const n = Math.floor(events.length * (options.duplicateShare ?? 0));
    return [...events, ...Array.from({ length: n }, () => events[Math.floor(random() * events.length)]!)];
  };
  return { orders: duplicate(orders), clicks: duplicate(clicks), tickets: duplicate(tickets), surveys: duplicate(surveys) };
}
