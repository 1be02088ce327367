import { describe, expect, it } from 'vitest';
import { decodeEvent, encodeEvent, type OrderEvent } from '../src/index.js';

const order: OrderEvent = {
  event_id: '0b7c8d2e-1f4a-4c3b-9d2e-7a6b5c4d3e2f',
  occurred_at: '2026-01-01T10:00:00.000Z',
  schema_version: 1,
  order_id: 'o1',
  customer_id: 'c1',
  status: 'paid',
  placed_at: '2026-01-01T09:00:00.000Z',
  total: 10.5,
  refunded_amount: 0,
  currency: 'EUR',
  channel: 'web',
  payment_method: 'credit',
  items: [],
};

/** Zig-zag varint, as Avro writes int and long. */
function varint(n: number): Buffer {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  const out: number[] = [];
  while (z >= 128) {
    out.push((z % 128) | 0x80);
    z = Math.floor(z / 128);
  }
  out.push(z);
  return Buffer.from(out);
}

/** The order with no items, its closing empty-array byte replaced by `tail`. */
const withItemsTail = (tail: Buffer) => {
  const bytes = encodeEvent('orders', order, 'avro');
  expect(bytes.at(-1)).toBe(0);
  return Buffer.concat([bytes.subarray(0, -1), tail]);
};

const decode = (bytes: Buffer) => decodeEvent('orders', bytes, 'application/avro');

describe('bounded Avro decoding', () => {
  it('refuses an order whose items block claims 10^8 entries without allocating them', () => {
    const bomb = withItemsTail(varint(100_000_000));
    expect(bomb.length).toBeLessThan(100);
    const before = process.memoryUsage().heapUsed;
    expect(decode(bomb)).toMatchObject({ ok: false, rejection: { code: 'invalid_value', path: 'items', message: 'at most 1000 items' } });
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(50 * 1024 * 1024);
  });

  it('refuses a block count the remaining bytes cannot hold, within the schema limit', () => {
    expect(decode(withItemsTail(varint(900)))).toMatchObject({ ok: false, rejection: { code: 'invalid_encoding', path: 'items' } });
    // A negative count (followed by the block's byte size), as Avro allows.
    expect(decode(withItemsTail(Buffer.concat([varint(-900), varint(10)])))).toMatchObject({ ok: false, rejection: { code: 'invalid_encoding', path: 'items' } });
  });

  it('refuses string lengths larger than the bytes left or than x-maxLength allows, and invalid UTF-8', () => {
    const bytes = encodeEvent('orders', order, 'avro');
    // order_id follows the event_id string (1 + 36 bytes), occurred_at and schema_version.
    const at = bytes.indexOf(Buffer.from([4, 0x6f, 0x31])); // length 2, "o1"
    expect(at).toBeGreaterThan(10);
    const patch = (replacement: Buffer) => Buffer.concat([bytes.subarray(0, at), replacement, bytes.subarray(at + 3)]);
    expect(decode(patch(Buffer.concat([varint(2 ** 40), Buffer.from('o1')])))).toMatchObject({ ok: false, rejection: { code: 'invalid_encoding', path: 'order_id' } });
    expect(decode(patch(Buffer.concat([varint(-3), Buffer.from('o1')])))).toMatchObject({ ok: false, rejection: { code: 'invalid_encoding', path: 'order_id' } });
    expect(decode(patch(Buffer.concat([varint(2), Buffer.from([0xc3, 0x28])])))).toMatchObject({ ok: false, rejection: { code: 'invalid_encoding', path: 'order_id', message: 'string is not valid UTF-8' } });
    const long = Buffer.alloc(257 * 3 + 1, 0x61);
    expect(decode(Buffer.concat([bytes.subarray(0, at), varint(long.length), long, bytes.subarray(at + 3)]))).toMatchObject({ ok: false, rejection: { code: 'invalid_value', path: 'order_id' } });
  });

  it('decides every truncation and every single-byte change of a valid order without throwing', () => {
    const bytes = encodeEvent('orders', { ...order, items: [{ sku: 's', category: 'c', quantity: 2, unit_price: 1.25 }] }, 'avro');
    expect(decode(bytes).ok).toBe(true);
    for (let n = 0; n < bytes.length; n++) expect(decode(bytes.subarray(0, n)).ok, `first ${n} bytes`).toBe(false);
    for (let i = 10; i < bytes.length; i++) {
      for (const b of [0x00, 0x7f, 0x80, 0xff]) {
        const changed = Buffer.from(bytes);
        changed[i] = b;
        expect(() => decode(changed)).not.toThrow();
      }
    }
  });

  it('refuses instants outside what ClickHouse stores in both encodings with the same code', () => {
    for (const placed_at of ['1000-01-01T00:00:00.000Z', '1969-12-31T23:59:59.999Z', '2286-11-20T17:46:40.000Z', '2300-01-01T00:00:00.000Z']) {
      const event = { ...order, placed_at };
      expect(decode(encodeEvent('orders', event, 'avro'))).toMatchObject({ ok: false, rejection: { code: 'timestamp_out_of_range', path: 'placed_at' } });
      expect(decodeEvent('orders', Buffer.from(JSON.stringify(event)), 'application/json')).toMatchObject({ ok: false, rejection: { code: 'timestamp_out_of_range', path: 'placed_at' } });
    }
  });
});
