import { randomUUID } from 'node:crypto';
import { SCHEMAS, encodeEvent, type EventsByName, type RejectionCode } from '@crm/events';
import { seededRandom } from './random.js';

export type InputName = 'orders' | 'clicks' | 'tickets' | 'surveys';

export const INPUT_NAMES: readonly InputName[] = ['orders', 'clicks', 'tickets', 'surveys'];

/** One Kafka message that ingest must refuse, with the reason it must give. */
export interface Malformed {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  code: RejectionCode;
}

/**
 * The ways a message can be broken. Each names the rejection code ingest gives
 * it (packages/events/src/rejection.ts). Three are decided by ingest, not by
 * the codec, and depend on its configuration: `too_large` (a body of
 * INGEST_MAX_MESSAGE_BYTES + 1 bytes or more), `future` (an occurred_at in
 * year 2999, beyond any clock skew) and `no_fx_rate` (CHF, which must have no
 * rate in CRM_FX_RATES).
 */
export const FAULTS = {
  /** Bytes FF FE FD labelled JSON: not UTF-8. */
  not_utf8: 'invalid_encoding',
  /** JSON text cut short. */
  truncated_json: 'invalid_encoding',
  /** An Avro datum cut short after the fingerprint. */
  truncated_avro: 'invalid_encoding',
  /** Avro bytes labelled application/json. */
  avro_as_json: 'invalid_encoding',
  /** An Avro fingerprint no schema has. */
  unknown_fingerprint: 'unknown_schema',
  /** The fingerprint of another topic's schema. */
  foreign_schema: 'unknown_schema',
  /** content-type text/csv. */
  content_type: 'unsupported_content_type',
  /** Larger than the size limit. */
  too_large: 'message_too_large',
  /** A required field absent. */
  missing_field: 'missing_field',
  /** A number as text or an instant as a number. */
  wrong_type: 'invalid_type',
  /** An event_id that is no UUID, or schema_version 2. */
  bad_value: 'invalid_value',
  /** An enumeration symbol that does not exist. */
  unknown_enum: 'unknown_enum_value',
  /** occurred_at in year 2999. */
  future: 'timestamp_out_of_range',
  /** Orders: a negative total. */
  negative_amount: 'invalid_amount',
  /** Orders: refunded_amount above total. */
  refund_exceeds_total: 'invalid_amount',
  /** Orders: a total with five decimals. */
  too_precise: 'invalid_amount',
  /** Orders: currency XYZ. */
  unknown_currency: 'unknown_currency',
  /** Orders: currency CHF, a real currency without a configured rate. */
  no_fx_rate: 'missing_fx_rate',
  /** Surveys: an NPS score of 11. */
  score_out_of_scale: 'invalid_value',
} as const satisfies Record<string, RejectionCode>;

export type FaultName = keyof typeof FAULTS;

export const FAULT_NAMES = Object.keys(FAULTS) as FaultName[];

const ORDER_ONLY: ReadonlySet<FaultName> = new Set(['negative_amount', 'refund_exceeds_total', 'too_precise', 'unknown_currency', 'no_fx_rate']);

/** Whether a fault can be made from an event of this stream (amount and currency faults need an order, the scale fault a survey). */
export function faultApplies(fault: FaultName, name: InputName): boolean {
  if (ORDER_ONLY.has(fault)) return name === 'orders';
  if (fault === 'score_out_of_scale') return name === 'surveys';
  return true;
}

export interface FaultContext {
  /** The id the broken event carries, so it never collides with an accepted one. */
  eventId: string;
  /** Draws for the variations (where to cut, which field); seeded for a reproducible stream. */
  random: () => number;
  /** Encoding of the faults that can be carried by either. */
  encoding: 'json' | 'avro';
  /** The size limit `too_large` exceeds. */
  maxMessageBytes: number;
}

const JSON_TYPE = 'application/json';
const AVRO_TYPE = 'application/avro';
const FAR_FUTURE = '2999-12-31T00:00:00.000Z';
const ENUM_FIELD = { orders: 'status', clicks: 'type', tickets: 'category', surveys: 'kind' } as const;
const REQUIRED_FIELD = { orders: 'customer_id', clicks: 'session_id', tickets: 'ticket_id', surveys: 'response_id' } as const;
const FOREIGN = { orders: 'clicks', clicks: 'orders', tickets: 'surveys', surveys: 'tickets' } as const;

const json = (value: unknown) => ({ value: Buffer.from(JSON.stringify(value)), headers: { 'content-type': JSON_TYPE } });

/**
 * A message of stream `name`, built from a valid event of it, that ingest
 * must reject with FAULTS[fault]. Faults that only change field values
 * (amounts, currency, timestamps, ids) are sent in `ctx.encoding`; the rest
 * are JSON or Avro by nature.
 */
export function breakEvent<N extends InputName>(name: N, valid: EventsByName[N], fault: FaultName, ctx: FaultContext): { value: Buffer; headers: Record<string, string> } {
  if (!faultApplies(fault, name)) throw new Error(`fault ${fault} cannot be made from a ${name} event`);
  const base = { ...valid, event_id: ctx.eventId } as Record<string, unknown>;
  const either = (value: Record<string, unknown>) =>
    ctx.encoding === 'json' ? json(value) : { value: encodeEvent(name, value as never, 'avro'), headers: { 'content-type': AVRO_TYPE } };
  const avroBytes = () => encodeEvent(name, base as never, 'avro');
  switch (fault) {
    case 'not_utf8':
      return { value: Buffer.from([0xff, 0xfe, 0xfd]), headers: { 'content-type': JSON_TYPE } };
    case 'truncated_json': {
      const text = Buffer.from(JSON.stringify(base));
      return { value: text.subarray(0, 1 + Math.floor(ctx.random() * (text.length - 1))), headers: { 'content-type': JSON_TYPE } };
    }
    case 'truncated_avro': {
      const bytes = avroBytes();
      return { value: bytes.subarray(0, 10 + Math.floor(ctx.random() * (bytes.length - 10))), headers: { 'content-type': AVRO_TYPE } };
    }
    case 'avro_as_json':
      return { value: avroBytes(), headers: { 'content-type': JSON_TYPE } };
    case 'unknown_fingerprint': {
      const bytes = avroBytes();
      bytes.writeBigUInt64LE(0x0123456789abcdefn, 2);
      return { value: bytes, headers: { 'content-type': AVRO_TYPE } };
    }
    case 'foreign_schema': {
      const bytes = avroBytes();
      SCHEMAS[FOREIGN[name]].fingerprintBytes.copy(bytes, 2);
      return { value: bytes, headers: { 'content-type': AVRO_TYPE } };
    }
    case 'content_type':
      return { value: Buffer.from(JSON.stringify(base)), headers: { 'content-type': 'text/csv' } };
    case 'too_large':
      return json({ ...base, padding: 'x'.repeat(ctx.maxMessageBytes) });
    case 'missing_field':
      return json({ ...base, [REQUIRED_FIELD[name]]: undefined });
    case 'wrong_type': {
      const numeric = { orders: 'total', surveys: 'score' } as Record<string, string>;
      const field = numeric[name];
      return json(field !== undefined && ctx.random() < 0.5 ? { ...base, [field]: String(base[field]) } : { ...base, occurred_at: Date.parse(base.occurred_at as string) });
    }
    case 'bad_value':
      return either(ctx.random() < 0.5 ? { ...base, event_id: `not-a-uuid-${ctx.eventId.slice(0, 8)}` } : { ...base, schema_version: 2 });
    case 'unknown_enum':
      return json({ ...base, [ENUM_FIELD[name]]: 'no_such_value' });
    case 'future':
      return either({ ...base, occurred_at: FAR_FUTURE });
    case 'negative_amount':
      return either({ ...base, total: -5, refunded_amount: 0 });
    case 'refund_exceeds_total':
      return either({ ...base, refunded_amount: Math.round(((base.total as number) + 1) * 100) / 100 });
    case 'too_precise':
      return either({ ...base, total: (base.total as number) + 0.00001 });
    case 'unknown_currency':
      return either({ ...base, currency: 'XYZ' });
    case 'no_fx_rate':
      return either({ ...base, currency: 'CHF' });
    case 'score_out_of_scale':
      return either({ ...base, kind: 'nps', scale_max: 10, score: 11, expectation: null });
  }
}

/** The faults of malformedVariants, with the key suffixes its callers know them by. */
const VARIANT_SUFFIX: Partial<Record<FaultName, string>> = {
  not_utf8: 'bytes',
  truncated_avro: 'truncated',
  unknown_fingerprint: 'fingerprint',
  content_type: 'ctype',
  too_large: 'large',
  missing_field: 'missing',
  wrong_type: 'type',
  future: 'future',
  unknown_enum: 'enum',
  negative_amount: 'negative',
  refund_exceeds_total: 'refund',
  unknown_currency: 'currency',
  no_fx_rate: 'fx',
  score_out_of_scale: 'score',
};

/**
 * Every way a message can be refused, built from a valid event of the stream
 * (with a fresh event_id so it never collides with an accepted one). Keys are
 * `${keyPrefix}:${suffix}`, unique, so a test can match each dead letter to
 * the message it came from.
 */
export function malformedVariants<N extends InputName>(name: N, valid: EventsByName[N], keyPrefix: string, maxBytes: number): Malformed[] {
  const random = seededRandom(hash(keyPrefix));
  const out: Malformed[] = [];
  for (const [fault, suffix] of Object.entries(VARIANT_SUFFIX) as [FaultName, string][]) {
    if (!faultApplies(fault, name)) continue;
    const message = breakEvent(name, valid, fault, { eventId: randomUUID(), random, encoding: 'json', maxMessageBytes: maxBytes });
    out.push({ key: `${keyPrefix}:${suffix}`, ...message, code: FAULTS[fault] });
  }
  return out;
}

function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
