import { describe, expect, it } from 'vitest';
import { encodeEvent, type OrderEvent } from '@crm/events';
import { decodeMessage, messageBytes, type DecodeContext } from '../src/decode-message.js';
import { STREAMS } from '../src/streams.js';

const orders = STREAMS.find((s) => s.schema === 'orders')!;
const decodeOrder = (m: Parameters<typeof decodeMessage>[1], c: DecodeContext) => decodeMessage(orders, m, c);

const ctx: DecodeContext = {
  now: Date.parse('2026-05-01T00:00:00Z'),
  maxFutureSkewMs: 300_000,
  maxMessageBytes: 10_000,
  reportingCurrency: 'USD',
  fxRates: { EUR: 1.08 },
};

const event = {
  event_id: '0b7c8d2e-1f4a-4c3b-9d2e-7a6b5c4d3e2f',
  occurred_at: '2026-04-30T12:00:00.250+02:00',
  schema_version: 1,
  order_id: 'o1',
  customer_id: 'c1',
  status: 'refunded',
  placed_at: '2026-04-29T23:59:59Z',
  total: 19.99,
  refunded_amount: 5.01,
  currency: 'USD',
  channel: 'app',
  payment_method: 'credit',
  items: [{ sku: 's', category: 'shoes', quantity: 2, unit_price: 9.995 }],
};

const message = (value: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) => ({
  value: Buffer.isBuffer(value) ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  headers,
  partition: 2,
  offset: '41',
});

describe('decodeMessage (orders)', () => {
  it('counts the key and the headers against INGEST_MAX_MESSAGE_BYTES, not only the value', () => {
    const small = message(event);
    const room = ctx.maxMessageBytes - small.value.length;
    expect(decodeOrder(small, ctx).ok).toBe(true);
    const bigKey = { ...small, key: Buffer.alloc(room, 0x61) };
    expect(decodeOrder(bigKey, ctx)).toMatchObject({ ok: false, rejection: { code: 'message_too_large' } });
    const bigHeader = { ...small, headers: { ...small.headers, trace: 'x'.repeat(room) } };
    expect(decodeOrder(bigHeader, ctx)).toMatchObject({ ok: false, rejection: { code: 'message_too_large' } });
  });

  it('accepts the same order in Avro single-object encoding, with the same row', () => {
    const avro = { value: encodeEvent('orders', event as OrderEvent, 'avro'), headers: { 'content-type': 'application/avro' }, partition: 2, offset: '41' };
    const fromAvro = decodeOrder(avro, ctx);
    const fromJson = decodeOrder(message(event), ctx);
    expect(fromAvro.ok).toBe(true);
    expect(fromAvro).toEqual(fromJson);
  });

  it('dead-letters Avro with an unknown fingerprint or a truncated datum', () => {
    const good = encodeEvent('orders', event as OrderEvent, 'avro');
    const unknown = Buffer.from(good);
    unknown[5] = unknown[5]! ^ 0xff;
    const avroHeaders = { 'content-type': 'application/avro' };
    const wrongTopic = encodeEvent('tickets', { event_id: event.event_id, occurred_at: event.occurred_at, schema_version: 1, ticket_id: 't', customer_id: 'c', status: 'opened', category: 'question', priority: 'low', channel: 'web' }, 'avro');
    const codes = [unknown, good.subarray(0, good.length - 3), wrongTopic, Buffer.from('{}')].map((value) => {
      const outcome = decodeOrder({ value, headers: avroHeaders, partition: 0, offset: '1' }, ctx);
      return !outcome.ok && outcome.rejection.code;
    });
    expect(codes).toEqual(['unknown_schema', 'invalid_encoding', 'unknown_schema', 'invalid_encoding']);
  });

  it('maps an order to a row: UTC ISO instants with milliseconds, amounts as exact decimal text, source position', () => {
    const outcome = decodeOrder(message(event), ctx);
    expect(outcome).toEqual({
      ok: true,
      rows: [{ table: 'orders', row: expect.objectContaining({
        occurred_at: '2026-04-30T10:00:00.250Z',
        placed_at: '2026-04-29T23:59:59.000Z',
        total: '19.9900',
        refunded_amount: '5.0100',
        fx_rate: '1.00000000',
        source_partition: 2,
        source_offset: '41',
        items: [{ sku: 's', category: 'shoes', quantity: 2, unit_price: '9.9950' }],
      }) }],
    });
  });

  it('fixes the configured rate for another currency at acceptance', () => {
    const outcome = decodeOrder(message({ ...event, currency: 'EUR' }), ctx);
    expect(outcome.ok && outcome.rows[0]!.row.fx_rate).toBe('1.08000000');
  });

  it('treats a missing content-type as JSON', () => {
    expect(decodeOrder(message(event, {}), ctx).ok).toBe(true);
  });

  it.each([
    ['undecodable bytes', message(Buffer.from([0xc3, 0x28])), 'invalid_encoding'],
    ['broken JSON', message('{"a":'), 'invalid_encoding'],
    ['an unknown content-type', message(event, { 'content-type': 'text/csv' }), 'unsupported_content_type'],
    ['an oversized message', message({ ...event, pad: 'x'.repeat(20_000) }), 'message_too_large'],
    ['a currency without a rate', message({ ...event, currency: 'JPY' }), 'missing_fx_rate'],
    ['occurred_at beyond the skew', message({ ...event, occurred_at: '2026-05-01T00:05:01Z' }), 'timestamp_out_of_range'],
  ])('dead-letters %s', (_, msg, code) => {
    const outcome = decodeOrder(msg, ctx);
    expect(!outcome.ok && outcome.rejection.code).toBe(code);
  });

  it('accepts occurred_at within the skew', () => {
    expect(decodeOrder(message({ ...event, occurred_at: '2026-05-01T00:04:59Z' }), ctx).ok).toBe(true);
  });
});

describe('messageBytes', () => {
  it('counts key, value and each header name and value in UTF-8 bytes, a name once per value', () => {
    expect(messageBytes({ key: Buffer.from('k1'), value: Buffer.from('{}'), headers: {} })).toBe(4);
    expect(messageBytes({ key: null, value: null })).toBe(0);
    // 'é' is 2 bytes, '€' 3; a Buffer counts its length; a value that is undefined counts its name only.
    const headers = { 'é': '€', trace: Buffer.from([1, 2, 3]), multi: ['ab', Buffer.from('c')], gone: undefined };
    expect(messageBytes({ value: Buffer.alloc(10), headers })).toBe(10 + (2 + 3) + (5 + 3) + (5 + 2) + (5 + 1) + 4);
  });
});
