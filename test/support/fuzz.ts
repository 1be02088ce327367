import fc from 'fast-check';
import { encodeEvent, SCHEMAS, type AvroNamed } from '@crm/events';

/**
 * Mutated valid events for the ingest fuzzer, generated with fast-check from a
 * seed (so a failing run is reproduced by its seed). Each message starts as a
 * valid event with ids of its own, in JSON or Avro, and gets at most one
 * mutation of a kind listed in FUZZ_KINDS (docs/INGEST.md lists them for producers).
 */
export type FuzzTopic = 'orders' | 'clicks' | 'tickets' | 'surveys';
export const FUZZ_TOPICS: readonly FuzzTopic[] = ['orders', 'clicks', 'tickets', 'surveys'];

export interface FuzzMessage {
  topic: FuzzTopic;
  kind: FuzzKind;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

export const FUZZ_KINDS = [
  'valid',
  'boundary-number',
  'boundary-instant',
  'odd-unicode',
  'wrong-type',
  'missing-field',
  'extra-field',
  'unknown-enum',
  'oversize-string',
  'oversize-items',
  'oversize-message',
  'truncated',
  'inflated',
  'byte-flip',
  'huge-length',
  'invalid-utf8',
  'deep-nesting',
  'content-type',
  'huge-header',
  'huge-key',
] as const;
export type FuzzKind = (typeof FUZZ_KINDS)[number];

/** The limits the fuzzer runs ingest with, small enough that oversize inputs are cheap to produce. */
export const FUZZ_LIMITS = { maxMessageBytes: 16_384, deadLetterSendBytes: 65_536 } as const;

const BOUNDARY_NUMBERS = [0, -0, -1, 1, 0.5, 1e-4, 1e-5, 0.00015, 9_999_999_999_999.999, 1e13, 1e13 + 0.0001, 1e14, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 53, 2 ** 53 + 2, 1e300, Number.MAX_VALUE, Number.MIN_VALUE, 255, 256, 10, 11, 4, 5, 6, 7];
const BOUNDARY_INSTANTS = [
  '1970-01-01T00:00:00Z',
  '1970-01-01T00:00:00.001+00:00',
  '1969-12-31T23:59:59.999Z',
  '1970-01-01T00:30:00+01:00',
  '1000-01-01T00:00:00Z',
  '0001-01-01T00:00:00Z',
  '2286-11-20T17:46:39.999Z',
  '2286-11-20T17:46:40Z',
  '2300-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '2026-02-30T00:00:00Z',
  '2026-01-01T10:00:00',
  '2026-01-01T24:00:00Z',
  '2026-01-01T10:00:00.123456789Z',
  '2026-01-01T10:00:00+14:00',
  '2026-01-01T10:00:00-12:00',
  '2026-01-01',
  '',
];
const ODD_STRINGS = ['\ud800', '\udfff', 'a\ud800b', '\udc00\ud800', '\ud83d\ude00', '\u0000', 'a\u0000b', '\ufeff', '\uffff', '\u202e', 'e\u0301', '👩‍👩‍👧‍👦', '\\', '"', "'; DROP TABLE orders; --", '{"a":1}', '\n\r\t', ' ', '\u2028'];

const iso = (ms: number) => new Date(ms).toISOString();

/** A valid event of the topic whose ids are derived from its index, so no two messages share a row key. */
export function baseEvent(topic: FuzzTopic, index: number, seed: number): Record<string, unknown> {
  const hex = (index * 7919 + seed * 104_729).toString(16).padStart(12, '0').slice(-12);
  const id = `${(seed >>> 0).toString(16).padStart(8, '0').slice(-8)}-0000-4000-8000-${hex}`;
  const at = iso(Date.parse('2026-01-01T00:00:00Z') + index * 1000);
  const envelope = { event_id: id, occurred_at: at, schema_version: 1 };
  const customer = `fz-c${index % 97}`;
  switch (topic) {
    case 'orders':
      return {
        ...envelope,
        order_id: `fz-o${index}`,
        customer_id: customer,
        status: 'paid',
        placed_at: at,
        total: 25.5,
        refunded_amount: 0,
        currency: 'USD',
        channel: 'web',
        payment_method: 'credit',
        items: [{ sku: 'sku-1', category: 'home', quantity: 2, unit_price: 12.75 }],
      };
    case 'clicks':
      return { ...envelope, anonymous_id: `fz-a${index % 50}`, customer_id: index % 3 === 0 ? customer : null, session_id: `fz-s${index}`, type: 'page_view', url: 'https://shop.example/p/1', sku: null, category: null, query: null, referrer: null, utm_source: null, utm_medium: null, utm_campaign: null };
    case 'tickets':
      return { ...envelope, ticket_id: `fz-t${index}`, customer_id: customer, status: 'opened', category: 'question', priority: 'normal', channel: 'email' };
    case 'surveys':
      return { ...envelope, response_id: `fz-r${index}`, customer_id: customer, kind: 'nps', score: 9, scale_max: 10, expectation: null, order_id: null, ticket_id: null, comment: 'fine' };
  }
}

/** Dotted paths of the leaves of a JSON-form event (items.0.sku …). */
function leafPaths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => leafPaths(v, [...prefix, i]));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
  return [prefix];
}

function setAt(target: Record<string, unknown>, path: (string | number)[], value: unknown, remove = false): void {
  let node = target as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (remove) delete node[last];
  else node[last] = value;
}

const getAt = (target: unknown, path: (string | number)[]) => path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)?.[k], target);

interface Plan {
  topic: FuzzTopic;
  avro: boolean;
  kind: FuzzKind;
  /** Picks among candidates (fields, positions, values) without more generators per kind. */
  picks: number[];
  bytes: number[];
  text: string;
}

const planArbitrary: fc.Arbitrary<Plan> = fc.record({
  topic: fc.constantFrom(...FUZZ_TOPICS),
  avro: fc.boolean(),
  // Valid events a third of the time, so rows and dead letters are both plentiful.
  kind: fc.oneof({ weight: 10, arbitrary: fc.constant<FuzzKind>('valid') }, { weight: 20, arbitrary: fc.constantFrom(...FUZZ_KINDS.filter((k) => k !== 'valid')) }),
  picks: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
  bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 16 }),
  text: fc.string({ unit: 'binary', maxLength: 40 }),
});

const pick = <T>(items: readonly T[], n: number): T => items[n % items.length]!;

/** Encodes in the planned encoding; what Avro cannot carry (a wrong type, a missing field) goes as JSON. */
function encode(topic: FuzzTopic, event: unknown, avro: boolean): { value: Buffer; contentType: string } {
  if (avro) {
    try {
      return { value: encodeEvent(topic, event as never, 'avro'), contentType: 'application/avro' };
    } catch {
      // falls through to JSON
    }
  }
  return { value: Buffer.from(JSON.stringify(event)), contentType: 'application/json' };
}

function stringFields(topic: FuzzTopic, event: unknown): (string | number)[][] {
  return leafPaths(event).filter((p) => typeof getAt(event, p) === 'string' || getAt(event, p) === null);
}

function enumPaths(topic: FuzzTopic): string[] {
  return (SCHEMAS[topic].source.fields ?? []).filter((f) => typeof f.type === 'object' && !Array.isArray(f.type) && (f.type as AvroNamed).type === 'enum').map((f) => f.name);
}

function build(plan: Plan, index: number, seed: number): FuzzMessage {
  const event = baseEvent(plan.topic, index, seed);
  const key = String(event.customer_id ?? event.anonymous_id);
  const [p0 = 0, p1 = 0, p2 = 0, p3 = 0] = plan.picks;
  const leaves = leafPaths(event);
  let headers: Record<string, string> = {};
  let messageKey: string | null = key;
  const mutateBytes = (mutate: (bytes: Buffer, avro: boolean) => Buffer) => {
    const encoded = encode(plan.topic, event, plan.avro);
    return { value: mutate(encoded.value, encoded.contentType === 'application/avro'), contentType: encoded.contentType };
  };
  let out: { value: Buffer; contentType: string };
  switch (plan.kind) {
    case 'valid':
      out = encode(plan.topic, event, plan.avro);
      break;
    case 'boundary-number': {
      const numeric = leaves.filter((p) => typeof getAt(event, p) === 'number');
      setAt(event, pick(numeric, p0), pick(BOUNDARY_NUMBERS, p1));
      out = encode(plan.topic, event, plan.avro);
      break;
    }
    case 'boundary-instant':
      setAt(event, [pick(plan.topic === 'orders' ? ['occurred_at', 'placed_at'] : ['occurred_at'], p0)], pick(BOUNDARY_INSTANTS, p1));
      out = encode(plan.topic, event, plan.avro);
      break;
    case 'odd-unicode': {
      const value = p2 % 3 === 0 ? plan.text : `${pick(ODD_STRINGS, p1)}${p3 % 2 ? plan.text : ''}`;
      setAt(event, pick(stringFields(plan.topic, event), p0), value);
      out = encode(plan.topic, event, plan.avro);
      break;
    }
    case 'wrong-type':
      setAt(event, pick(leaves, p0), pick<unknown>([42, '42', null, true, [], {}, [1, 2], { a: 1 }, 1.5, -1], p1));
      out = encode(plan.topic, event, plan.avro);
      break;
    case 'missing-field':
      setAt(event, pick(leaves, p0), undefined, true);
      out = encode(plan.topic, event, plan.avro);
      break;
    case 'extra-field':
      event[`x_${plan.text.length}`] = plan.text;
      out = encode(plan.topic, event, plan.avro);
      break;
    case 'unknown-enum': {
      const enums = enumPaths(plan.topic);
      setAt(event, [pick(enums, p0)], pick(['lost', 'PAID', '', 'page-view', 'placed '], p1));
      out = encode(plan.topic, event, plan.avro);
      break;
    }
    case 'oversize-string':
      setAt(event, pick(stringFields(plan.topic, event), p0), 'x'.repeat(pick([257, 1025, 4097, 10_001, 15_000], p1)));
      out = encode(plan.topic, event, plan.avro);
      break;
    case 'oversize-items':
      if (plan.topic === 'orders') event.items = Array.from({ length: pick([1000, 1001, 1500], p1) }, () => ({ sku: 's', category: 'c', quantity: 1, unit_price: 0.01 }));
      else setAt(event, pick(stringFields(plan.topic, event), p0), 'y'.repeat(FUZZ_LIMITS.maxMessageBytes));
      out = encode(plan.topic, event, plan.avro);
      break;
    case 'oversize-message':
      // Past the limit; one in four past the dead-letter send limit too, so its dead letter is cut to a prefix.
      out = mutateBytes((b) => Buffer.concat([b, Buffer.alloc(p1 % 8 === 0 ? FUZZ_LIMITS.deadLetterSendBytes + 1000 : FUZZ_LIMITS.maxMessageBytes + 1, 0x20)]));
      break;
    case 'truncated':
      out = mutateBytes((b) => b.subarray(0, p0 % b.length));
      break;
    case 'inflated':
      out = mutateBytes((b) => {
        const at = p0 % (b.length + 1);
        return Buffer.concat([b.subarray(0, at), Buffer.from(plan.bytes), b.subarray(at)]);
      });
      break;
    case 'byte-flip':
      out = mutateBytes((b) => {
        const copy = Buffer.from(b);
        plan.bytes.forEach((byte, i) => (copy[(p0 + i * (p1 + 1)) % copy.length] = byte));
        return copy;
      });
      break;
    case 'huge-length':
      // A varint claiming ~2^34 (Avro) or a number token of the same size (JSON), anywhere.
      out = mutateBytes((b, avro) => {
        const at = p0 % (b.length + 1);
        const claim = avro ? Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x7f]) : Buffer.from('1'.repeat(400));
        return Buffer.concat([b.subarray(0, at), claim, b.subarray(p1 % 2 ? at + 1 : at)]);
      });
      break;
    case 'invalid-utf8':
      out = mutateBytes((b) => {
        const at = p0 % (b.length + 1);
        return Buffer.concat([b.subarray(0, at), Buffer.from(pick([[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]], p1)), b.subarray(at)]);
      });
      break;
    case 'deep-nesting':
      out = { value: Buffer.from(`${'['.repeat(5_000 + (p0 % 5_000))}${']'.repeat(p1 % 2 ? 5_000 : 0)}`), contentType: 'application/json' };
      break;
    case 'content-type':
      out = encode(plan.topic, event, plan.avro);
      out.contentType = pick(['application/json; charset=utf-8', 'APPLICATION/AVRO', 'text/plain', '', 'application/avro', 'application/json', 'application/x-protobuf'], p1);
      break;
    case 'huge-header':
      out = encode(plan.topic, event, plan.avro);
      headers = { trace: 'h'.repeat(pick([100, FUZZ_LIMITS.maxMessageBytes], p1)) };
      break;
    case 'huge-key':
      out = encode(plan.topic, event, plan.avro);
      messageKey = p1 % 3 === 0 ? null : 'k'.repeat(pick([1, 2000, FUZZ_LIMITS.maxMessageBytes], p2));
      break;
  }
  return { topic: plan.topic, kind: plan.kind, key: messageKey, value: out.value, headers: { ...(out.contentType === '' ? {} : { 'content-type': out.contentType }), ...headers } };
}

/** `count` mutated messages from `seed`, the same every time for the same pair. */
export function* fuzzMessages(seed: number, count: number): Generator<FuzzMessage> {
  const chunk = 1000;
  for (let start = 0; start < count; start += chunk) {
    const plans = fc.sample(planArbitrary, { seed: seed + start, numRuns: Math.min(chunk, count - start) });
    for (let i = 0; i < plans.length; i++) yield build(plans[i]!, start + i, seed);
  }
}
