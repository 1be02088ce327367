import { randomUUID } from 'node:crypto';
import { encodeEvent, type EventsByName, type RejectionCode } from '@crm/events';
import type { Outgoing } from './kafka.js';

export type InputName = 'orders' | 'clicks' | 'tickets' | 'surveys';

export interface Malformed extends Outgoing {
  code: RejectionCode;
}

const json = (value: unknown, key: string): Outgoing => ({ key, value: Buffer.from(JSON.stringify(value)), headers: { 'content-type': 'application/json' } });
const avro = (value: Buffer, key: string): Outgoing => ({ key, value, headers: { 'content-type': 'application/avro' } });

/**
 * Every way a message can be refused, built from a valid event of the stream
 * (with a fresh event_id so it never collides with an accepted one). Keys are
 * unique so a test can match each dead letter to the message it came from.
 */
export function malformedVariants<N extends InputName>(name: N, valid: EventsByName[N], keyPrefix: string, maxBytes: number): Malformed[] {
  const base = { ...valid, event_id: randomUUID() } as Record<string, unknown>;
  const k = (code: string) => `${keyPrefix}:${code}`;
  const out: Malformed[] = [];
  const add = (code: RejectionCode, message: Outgoing) => out.push({ ...message, code });

  add('invalid_encoding', { key: k('bytes'), value: Buffer.from([0xff, 0xfe, 0xfd]), headers: { 'content-type': 'application/json' } });
  add('invalid_encoding', avro(encodeEvent(name, base as never, 'avro').subarray(0, 14), k('truncated')));
  const foreign = Buffer.from(encodeEvent(name, base as never, 'avro'));
  foreign.writeBigUInt64LE(0x0123456789abcdefn, 2);
  add('unknown_schema', avro(foreign, k('fingerprint')));
  add('unsupported_content_type', { key: k('ctype'), value: Buffer.from(JSON.stringify(base)), headers: { 'content-type': 'text/csv' } });
  add('message_too_large', json({ ...base, padding: 'x'.repeat(maxBytes) }, k('large')));
  add('missing_field', json({ ...base, customer_id: undefined, anonymous_id: undefined, event_id: undefined }, k('missing')));
  add('invalid_type', json({ ...base, occurred_at: 1_700_000_000_000 }, k('type')));
  add('timestamp_out_of_range', json({ ...base, occurred_at: new Date(Date.now() + 86_400_000).toISOString() }, k('future')));
  const enumField = { orders: 'status', clicks: 'type', tickets: 'category', surveys: 'kind' }[name];
  add('unknown_enum_value', json({ ...base, [enumField]: 'no_such_value' }, k('enum')));
  if (name === 'orders') {
    add('invalid_amount', json({ ...base, total: -5 }, k('negative')));
    add('invalid_amount', json({ ...base, total: 10, refunded_amount: 12 }, k('refund')));
    add('unknown_currency', json({ ...base, currency: 'XYZ' }, k('currency')));
    add('missing_fx_rate', json({ ...base, currency: 'CHF' }, k('fx')));
  }
  if (name === 'surveys') add('invalid_value', json({ ...base, kind: 'nps', scale_max: 10, score: 11 }, k('score')));
  return out;
}
