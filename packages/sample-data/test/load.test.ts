import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeEvent, type ClickEvent, type EventsByName, type OrderEvent, type SurveyEvent, type TicketEvent } from '@crm/events';
import { DEFAULT_LOAD_FAULTS, FAULT_NAMES, faultApplies, generateLoad, type InputName, type LoadMessage, type LoadOptions } from '../src/index.js';
import { ingestVerdict } from './ingest-verdict.js';

const all = (options: LoadOptions): LoadMessage[] => [...generateLoad(options)].flatMap((c) => c.messages);
const digest = (messages: LoadMessage[]) => {
  const hash = createHash('sha256');
  for (const m of messages) hash.update(`${m.topic}|${m.key}|${JSON.stringify(m.headers)}|${m.valid ? `${m.eventId}|${m.redelivery}` : `${m.reason}|${m.fault}`}|`).update(m.value);
  return hash.digest('hex');
};
const originals = (messages: LoadMessage[]) => messages.flatMap((m) => (m.valid && !m.redelivery ? [m.eventId] : []));

describe('generateLoad: a seeded stream', () => {
  it('gives the same bytes for the same seed and different ones for another', () => {
    const a = all({ seed: 11, events: 3_000, duplicateShare: 0.01 });
    expect(digest(all({ seed: 11, events: 3_000, duplicateShare: 0.01 }))).toBe(digest(a));
    expect(digest(all({ seed: 12, events: 3_000, duplicateShare: 0.01 }))).not.toBe(digest(a));
  });

  it('has exactly `events` messages in chunks of chunkSize; the chunk size does not change the sequence; a shorter run is a prefix', () => {
    const chunks = [...generateLoad({ seed: 5, events: 6_789, chunkSize: 500 })];
    expect(chunks.map((c) => c.index)).toEqual([...Array(14).keys()]);
    expect(chunks.map((c) => c.messages.length)).toEqual([...Array(13).fill(500), 289]);
    const messages = chunks.flatMap((c) => c.messages);
    expect(digest(all({ seed: 5, events: 6_789, chunkSize: 777 }))).toBe(digest(messages));
    expect(digest(all({ seed: 5, events: 4_321 }))).toBe(digest(messages.slice(0, 4_321)));
    expect(all({ seed: 5, events: 0 })).toEqual([]);
  });

  it('keeps the valid events when only the delivery options change', () => {
    const plain = originals(all({ seed: 9, events: 6_000, malformedShare: 0, avroShare: 0 }));
    const noisy = originals(all({ seed: 9, events: 6_000, malformedShare: 0.1, duplicateShare: 0.05, avroShare: 1 }));
    expect(noisy.length).toBeLessThan(plain.length);
    expect(noisy).toEqual(plain.slice(0, noisy.length));
  });

  it('streams: the first chunk of a ten-million-message load comes at once', () => {
    const started = performance.now();
    const first = generateLoad({ seed: 1, events: 10_000_000, chunkSize: 5_000 }).next();
    expect(first.done).toBe(false);
    expect(first.value!.messages).toHaveLength(5_000);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('refuses impossible options', () => {
    expect(() => generateLoad({ seed: 1, events: -1 }).next()).toThrow(/events/);
    expect(() => generateLoad({ seed: 1, events: 10, chunkSize: 0 }).next()).toThrow(/chunkSize/);
    expect(() => generateLoad({ seed: 1, events: 10, malformedShare: 1.5 }).next()).toThrow(/malformedShare/);
    expect(() => generateLoad({ seed: 1, events: 10, malformedShare: 0.6, duplicateShare: 0.5 }).next()).toThrow(/below 1/);
    expect(() => generateLoad({ seed: 1, events: 10, currencies: {} }).next()).toThrow(/currencies/);
  });

  it('draws order currencies from `currencies`', () => {
    const currencies = new Map<string, number>();
    for (const m of all({ seed: 2, events: 5_000, avroShare: 0, malformedShare: 0, currencies: { USD: 0.7, EUR: 0.3 } })) {
      if (m.topic === 'orders') {
        const { currency } = JSON.parse(m.value.toString('utf8')) as { currency: string };
        currencies.set(currency, (currencies.get(currency) ?? 0) + 1);
      }
    }
    expect([...currencies.keys()].sort()).toEqual(['EUR', 'USD']);
  });
});

describe('generateLoad: every message is what its tag says', () => {
  // Every fault, both encodings, with ingest's size limit lowered so `too_large` stays small; a
  // second run of only the order and survey faults, which are rare among mostly clicks.
  const MAX_BYTES = 20_000;
  const RARE = FAULT_NAMES.filter((f) => !faultApplies(f, 'clicks'));
  let messages: LoadMessage[];
  beforeAll(() => {
    messages = [
      ...all({ seed: 21, events: 6_000, malformedShare: 0.2, duplicateShare: 0.03, faults: FAULT_NAMES, maxMessageBytes: MAX_BYTES }),
      ...all({ seed: 22, events: 2_500, malformedShare: 0.3, faults: RARE }),
    ];
  });

  it('decodes every valid message (JSON or Avro) to its event_id and rejects every malformed one with its tagged reason', () => {
    const mismatches: string[] = [];
    const seen = new Map<string, number>();
    for (const m of messages) {
      const verdict = ingestVerdict(m, { maxMessageBytes: MAX_BYTES });
      if (m.valid) {
        const decoded = decodeEvent(m.topic, m.value, m.headers['content-type']!);
        if (!decoded.ok || decoded.event.event_id !== m.eventId || verdict !== 'accepted') mismatches.push(`${m.topic} ${m.eventId}: ${JSON.stringify(decoded)}`);
      } else {
        if (verdict !== m.reason) mismatches.push(`${m.topic} ${m.fault}: expected ${m.reason}, got ${verdict}`);
        seen.set(m.fault, (seen.get(m.fault) ?? 0) + 1);
      }
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
    expect([...seen.keys()].sort()).toEqual([...FAULT_NAMES].sort());
  });

  it('mixes JSON and Avro about half and half, and keys by customer (an anonymous click: its device)', () => {
    const valid = messages.filter((m) => m.valid);
    const avro = valid.filter((m) => m.headers['content-type'] === 'application/avro').length / valid.length;
    expect(avro).toBeGreaterThan(0.45);
    expect(avro).toBeLessThan(0.55);
    for (const m of valid.slice(0, 2_000)) {
      const decoded = decodeEvent(m.topic, m.value, m.headers['content-type']!);
      const event = (decoded.ok ? decoded.event : {}) as { customer_id?: string | null; anonymous_id?: string };
      expect(m.key).toBe(event.customer_id ?? event.anonymous_id);
    }
  });

  it('re-delivers an earlier valid message byte for byte', () => {
    const earlier = new Map<string, LoadMessage>();
    let redeliveries = 0;
    for (const m of messages) {
      if (!m.valid) continue;
      if (!m.redelivery) earlier.set(m.eventId, m);
      else {
        redeliveries++;
        const original = earlier.get(m.eventId);
        expect(original).toBeDefined();
        expect(m.value.equals(original!.value)).toBe(true);
        expect([m.topic, m.key, m.headers]).toEqual([original!.topic, original!.key, original!.headers]);
      }
    }
    expect(redeliveries / 6_000).toBeGreaterThan(0.02);
    expect(redeliveries / 6_000).toBeLessThan(0.04);
  });
});

describe('generateLoad: a realistic shape', () => {
  // The default options (0.5 % malformed, no re-deliveries), all JSON so the test can read it quickly.
  const EVENTS = 80_000;
  let messages: LoadMessage[];
  const events: { [N in InputName]: EventsByName[N][] } = { orders: [], clicks: [], tickets: [], surveys: [] };
  beforeAll(() => {
    messages = all({ seed: 3, events: EVENTS, avroShare: 0 });
    for (const m of messages) if (m.valid) (events[m.topic] as unknown[]).push(JSON.parse(m.value.toString('utf8')));
  });

  it('carries the default share of malformed messages, of the default faults', () => {
    const malformed = messages.filter((m) => !m.valid);
    expect(malformed.length / EVENTS).toBeGreaterThan(0.004);
    expect(malformed.length / EVENTS).toBeLessThan(0.006);
    expect(new Set(malformed.map((m) => m.fault)).size).toBeGreaterThan(10);
    for (const m of malformed) expect(DEFAULT_LOAD_FAULTS).toContain(m.fault);
  });

  it('has heavy-tailed customers: the median buys once or twice, the top 1 % place a large share of the orders', () => {
    const perCustomer = new Map<string, number>();
    for (const o of events.orders) if (o.status === 'placed') perCustomer.set(o.customer_id, (perCustomer.get(o.customer_id) ?? 0) + 1);
    const counts = [...perCustomer.values()].sort((a, b) => b - a);
    const orders = counts.reduce((a, b) => a + b, 0);
    const top = counts.slice(0, Math.ceil(counts.length / 100)).reduce((a, b) => a + b, 0);
    expect(counts.length).toBeGreaterThan(700);
    expect(counts[Math.floor(counts.length / 2)]).toBeLessThanOrEqual(2);
    expect(counts.filter((n) => n <= 2).length / counts.length).toBeGreaterThan(0.65);
    expect(top / orders).toBeGreaterThan(0.15);
    expect(counts[0]).toBeGreaterThan(50);
  });

  it('is seasonal: evenings and weekends are busier, nights quiet', () => {
    const instants = [...events.clicks.map((c) => c.occurred_at), ...events.orders.filter((o) => o.status === 'placed').map((o) => o.occurred_at)].map((t) => new Date(t));
    const share = (test: (d: Date) => boolean) => instants.filter(test).length / instants.length;
    // Flat would be 25 %, 28.6 % and 12.5 %.
    expect(share((d) => d.getUTCHours() >= 18)).toBeGreaterThan(0.36);
    expect(share((d) => d.getUTCDay() === 0 || d.getUTCDay() === 6)).toBeGreaterThan(0.32);
    expect(share((d) => d.getUTCHours() >= 1 && d.getUTCHours() < 6)).toBeLessThan(0.06);
    // December weighs 1.4, January 0.85.
    expect(share((d) => d.getUTCMonth() === 11)).toBeGreaterThan(share((d) => d.getUTCMonth() === 0) * 1.15);
  });

  it('has all four kinds in realistic proportions: clicks far outnumber orders, tickets and surveys are rarer', () => {
    const valid = messages.filter((m) => m.valid).length;
    const share = (n: InputName) => events[n].length / valid;
    expect(share('clicks')).toBeGreaterThan(0.75);
    expect(share('clicks')).toBeLessThan(0.9);
    expect(share('orders')).toBeGreaterThan(0.1);
    expect(share('orders')).toBeLessThan(0.2);
    expect(share('tickets')).toBeGreaterThan(0.005);
    expect(share('tickets')).toBeLessThan(0.04);
    expect(share('surveys')).toBeGreaterThan(0.003);
    expect(share('surveys')).toBeLessThan(0.03);
    expect(new Set(events.surveys.map((s) => s.kind))).toEqual(new Set(['csat', 'nps', 'ces']));
  });

  it('moves orders and tickets through their states in time order', () => {
    const paths = (items: { id: string; status: string; at: string }[]) => {
      const out = new Map<string, { path: string; at: string }>();
      for (const { id, status, at } of items) {
        const before = out.get(id);
        // Instants out of order show as a '<' in the path.
        out.set(id, { path: before ? `${before.path}${at < before.at ? ' <' : ''} ${status}` : status, at });
      }
      return [...out.values()].map((p) => p.path);
    };
    const orders = paths(events.orders.map((o: OrderEvent) => ({ id: o.order_id, status: o.status, at: o.occurred_at })));
    const orderPath = /^placed( cancelled| paid( shipped( delivered( refunded)?)?)?)?$/;
    expect(orders.filter((p) => !orderPath.test(p))).toEqual([]);
    // Every fate, and orders still in flight at the end of the window.
    expect([...new Set(orders.map((p) => p.split(' ').at(-1)))].sort()).toEqual(expect.arrayContaining(['cancelled', 'delivered', 'paid', 'refunded', 'shipped']));
    const tickets = paths(events.tickets.map((t: TicketEvent) => ({ id: t.ticket_id, status: t.status, at: t.occurred_at })));
    const ticketPath = /^opened( pending( resolved( closed)?( reopened)?)?)?$/;
    expect(tickets.filter((p) => !ticketPath.test(p))).toEqual([]);
    expect(events.surveys.filter((s: SurveyEvent) => (s.kind === 'csat' && s.order_id === null) || (s.kind === 'ces' && s.ticket_id === null))).toEqual([]);
  });

  it('links devices to customers by login: anonymous until the first login click, identified after', () => {
    const state = new Map<string, 'anonymous' | 'identified'>();
    const wrong: string[] = [];
    let linked = 0;
    for (const c of events.clicks as ClickEvent[]) {
      const before = state.get(c.anonymous_id) ?? 'anonymous';
      if (before === 'anonymous' && c.customer_id !== null) {
        if (c.type !== 'login') wrong.push(`${c.anonymous_id}: identified by a ${c.type}`);
        state.set(c.anonymous_id, 'identified');
        linked++;
      } else if (before === 'identified' && c.customer_id === null) wrong.push(`${c.anonymous_id}: anonymous again`);
      else state.set(c.anonymous_id, before);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(linked / state.size).toBeGreaterThan(0.5);
    expect(linked / state.size).toBeLessThan(0.95);
    const checkouts = events.clicks.filter((c) => c.type === 'checkout_started');
    expect(checkouts.filter((c) => c.customer_id !== null).length / checkouts.length).toBeGreaterThan(0.8);
  });
});
