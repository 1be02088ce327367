import { describe, expect, it } from 'vitest';
import { SCHEMAS, rejectionFromZod } from '../src/index.js';

const valid = {
  event_id: '0b7c8d2e-1f4a-4c3b-9d2e-7a6b5c4d3e2f',
  occurred_at: '2026-01-01T10:00:00+01:00',
  schema_version: 1,
  order_id: 'o1',
  customer_id: 'c1',
  status: 'paid',
  placed_at: '2026-01-01T09:00:00Z',
  total: 10.5,
  refunded_amount: 0,
  currency: 'EUR',
  channel: 'web',
  payment_method: 'credit',
  items: [{ sku: 's', category: 'shoes', quantity: 1, unit_price: 10.5 }],
};

function rejection(event: unknown) {
  const result = SCHEMAS.orders.json.safeParse(event);
  if (result.success) return undefined;
  return rejectionFromZod(result.error, event);
}

describe('orders.v1 validation (JSON form, derived from schemas/orders.v1.avsc)', () => {
  it('accepts a valid order, including a free one', () => {
    expect(rejection(valid)).toBeUndefined();
    expect(rejection({ ...valid, total: 0, refunded_amount: 0, items: [] })).toBeUndefined();
  });

  it('accepts what ClickHouse stores: any canonical-text UUID, the first and last storable instants, a surrogate pair', () => {
    expect(rejection({ ...valid, event_id: '00000000-0000-0000-0000-000000000000' })).toBeUndefined();
    expect(rejection({ ...valid, event_id: 'ABCDEF01-2345-6789-ABCD-EF0123456789' })).toBeUndefined();
    expect(rejection({ ...valid, placed_at: '1970-01-01T00:00:00Z', occurred_at: '2286-11-20T17:46:39.999Z' })).toBeUndefined();
    expect(rejection({ ...valid, customer_id: 'c\ud83d\ude00' })).toBeUndefined();
  });

  it.each([
    [{ ...valid, status: 'lost' }, 'unknown_enum_value', 'status'],
    [{ ...valid, channel: 'fax' }, 'unknown_enum_value', 'channel'],
    [{ ...valid, total: undefined }, 'missing_field', 'total'],
    [{ ...valid, customer_id: undefined }, 'missing_field', 'customer_id'],
    [{ ...valid, total: '10.5' }, 'invalid_type', 'total'],
    [{ ...valid, total: -1 }, 'invalid_amount', 'total'],
    [{ ...valid, total: 1.00001 }, 'invalid_amount', 'total'],
    [{ ...valid, refunded_amount: 11 }, 'invalid_amount', 'refunded_amount'],
    [{ ...valid, currency: 'ABC' }, 'unknown_currency', 'currency'],
    [{ ...valid, currency: 'usd' }, 'invalid_value', 'currency'],
    [{ ...valid, occurred_at: '2026-01-01T10:00:00' }, 'invalid_value', 'occurred_at'],
    [{ ...valid, event_id: 'x' }, 'invalid_value', 'event_id'],
    [{ ...valid, schema_version: 2 }, 'invalid_value', 'schema_version'],
    [{ ...valid, order_id: '' }, 'invalid_value', 'order_id'],
    [{ ...valid, items: [{ sku: 's', category: 'c', quantity: 0, unit_price: 1 }] }, 'invalid_value', 'items.0.quantity'],
    [{ ...valid, customer_id: 'c\ud800' }, 'invalid_value', 'customer_id'],
    [{ ...valid, items: [{ sku: '\udc00', category: 'c', quantity: 1, unit_price: 1 }] }, 'invalid_value', 'items.0.sku'],
    [{ ...valid, placed_at: '1000-01-01T00:00:00Z' }, 'timestamp_out_of_range', 'placed_at'],
    [{ ...valid, occurred_at: '2300-01-01T00:00:00Z' }, 'timestamp_out_of_range', 'occurred_at'],
    [{ ...valid, occurred_at: '1970-01-01T00:30:00+01:00' }, 'timestamp_out_of_range', 'occurred_at'],
    [{ ...valid, event_id: '0b7c8d2e-1f4a-4c3b-9d2e-7a6b5c4d3e2' }, 'invalid_value', 'event_id'],
  ])('rejects %j as %s at %s', (event, code, path) => {
    expect(rejection(event)).toMatchObject({ code, path });
  });
});
