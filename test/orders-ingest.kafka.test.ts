import { describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import type { OrderEvent } from '@crm/events';
import { createClickHouse } from '@crm/clickhouse';
import { createLogger } from '@crm/runtime';
import { generateOrderEvents } from '@crm/sample-data';
import { runScoring } from '@crm/scoring';
import { loadIngestConfig, startIngest, type IngestService } from '@crm/ingest';
import { useTestInfrastructure } from './support/harness.js';
import { committedMessages, createTestTopics, header, produce, readTopic } from './support/kafka.js';
import { uniqueName } from './support/namespace.js';
import { centsToDecimal4, referenceProfiles } from './support/reference-profiles.js';
import { waitUntil } from './support/wait.js';
import { profilesByCustomer, uniqueOrderEvents } from './support/queries.js';

const infra = useTestInfrastructure();

function envFor(namespace: string, database: string): Record<string, string> {
  return {
    ...infra.env(),
    CLICKHOUSE_DATABASE: database,
    CRM_TOPIC_NAMESPACE: namespace,
    INGEST_HEALTH_PORT: '0',
  };
}

const order = (o: Partial<OrderEvent> & Pick<OrderEvent, 'event_id' | 'order_id' | 'customer_id' | 'status' | 'occurred_at'>): OrderEvent => ({
  schema_version: 1,
  placed_at: '2026-03-01T10:00:00Z',
  total: 100,
  refunded_amount: 0,
  currency: 'USD',
  channel: 'web',
  payment_method: 'credit',
  items: [{ sku: 'A-1', category: 'shoes', quantity: 1, unit_price: 100 }],
  ...o,
});

/** A hand-made history whose results are computed by hand below. */
const HAND_MADE: OrderEvent[] = [
  // c1: a delivered order (100), and an order cancelled after placement.
  order({ event_id: '00000000-0000-4000-8000-000000000001', order_id: 'A', customer_id: 'c1', status: 'placed', occurred_at: '2026-03-01T10:00:00Z' }),
  order({ event_id: '00000000-0000-4000-8000-000000000002', order_id: 'A', customer_id: 'c1', status: 'delivered', occurred_at: '2026-03-03T10:00:00Z' }),
  order({ event_id: '00000000-0000-4000-8000-000000000003', order_id: 'B', customer_id: 'c1', status: 'placed', total: 50, occurred_at: '2026-03-04T10:00:00Z', placed_at: '2026-03-04T10:00:00Z' }),
  order({ event_id: '00000000-0000-4000-8000-000000000004', order_id: 'B', customer_id: 'c1', status: 'cancelled', total: 50, occurred_at: '2026-03-04T11:00:00+01:00', placed_at: '2026-03-04T10:00:00Z' }),
  // c2: 80.00 partly refunded by 30.50 (arrives before the older "paid" event), 20.00 fully refunded, a free order.
  order({ event_id: '00000000-0000-4000-8000-000000000005', order_id: 'C', customer_id: 'c2', status: 'refunded', total: 80, refunded_amount: 30.5, occurred_at: '2026-03-10T10:00:00Z' }),
  order({ event_id: '00000000-0000-4000-8000-000000000006', order_id: 'C', customer_id: 'c2', status: 'paid', total: 80, occurred_at: '2026-03-02T10:00:00Z' }),
  order({ event_id: '00000000-0000-4000-8000-000000000007', order_id: 'D', customer_id: 'c2', status: 'refunded', total: 20, refunded_amount: 20, occurred_at: '2026-03-05T10:00:00Z' }),
  order({ event_id: '00000000-0000-4000-8000-000000000008', order_id: 'E', customer_id: 'c2', status: 'delivered', total: 0, occurred_at: '2026-03-06T10:00:00Z', placed_at: '2026-03-06T09:00:00Z' }),
  // c3: only a cancelled order — seen, never a buyer.
  order({ event_id: '00000000-0000-4000-8000-000000000009', order_id: 'F', customer_id: 'c3', status: 'cancelled', occurred_at: '2026-03-07T10:00:00Z' }),
  // c4: an order placed after the as-of instant used below.
  order({ event_id: '00000000-0000-4000-8000-00000000000a', order_id: 'G', customer_id: 'c4', status: 'paid', occurred_at: '2026-04-02T10:00:00Z', placed_at: '2026-04-02T10:00:00Z' }),
];

const MALFORMED: { value: string | Buffer; code: string }[] = [
  { value: Buffer.from([0xff, 0xfe, 0x00]), code: 'invalid_encoding' },
  { value: '{"event_id": "not json', code: 'invalid_encoding' },
  { value: JSON.stringify({ ...HAND_MADE[0], event_id: '10000000-0000-4000-8000-000000000001', status: 'lost' }), code: 'unknown_enum_value' },
  { value: JSON.stringify({ ...HAND_MADE[0], event_id: '10000000-0000-4000-8000-000000000002', total: undefined }), code: 'missing_field' },
  { value: JSON.stringify({ ...HAND_MADE[0], event_id: '10000000-0000-4000-8000-000000000003', total: '100' }), code: 'invalid_type' },
  { value: JSON.stringify({ ...HAND_MADE[0], event_id: '10000000-0000-4000-8000-000000000004', refunded_amount: 101 }), code: 'invalid_amount' },
  { value: JSON.stringify({ ...HAND_MADE[0], event_id: '10000000-0000-4000-8000-000000000005', currency: 'ABC' }), code: 'unknown_currency' },
  { value: JSON.stringify({ ...HAND_MADE[0], event_id: '10000000-0000-4000-8000-000000000006', currency: 'EUR' }), code: 'missing_fx_rate' },
  { value: JSON.stringify({ ...HAND_MADE[0], event_id: '10000000-0000-4000-8000-000000000007', occurred_at: '2099-01-01T00:00:00Z' }), code: 'timestamp_out_of_range' },
];

describe('orders: Kafka → ingest → ClickHouse → profiles', () => {
  it('stores exact purchases and net revenue per customer, dead-letters malformed events, ignores re-deliveries', async () => {
    const namespace = uniqueName('orders');
    const database = uniqueName('crm');
    const topics = await createTestTopics(infra.kafka, namespace);
    const env = envFor(namespace, database);
    const ingest: IngestService = await startIngest(loadIngestConfig(env), createLogger('ingest', 'warn'));
    const clickhouse = createClickHouse(loadIngestConfig(env));
    try {
      const sample = generateOrderEvents({ seed: 7, customers: 60, end: new Date('2026-03-31T00:00:00Z'), idPrefix: 's7', duplicateShare: 0.1 });
      const events = [...HAND_MADE, ...HAND_MADE.slice(0, 4), ...sample];
      const unique = new Set(events.map((e) => e.event_id)).size;
      expect(events.length - unique).toBeGreaterThan(10);
      expect(unique).toBeGreaterThan(200);

      await produce(infra.kafka, topics.orders, [
        ...events.map((e) => ({ key: e.customer_id, value: JSON.stringify(e) })),
        ...MALFORMED.map((m, i) => ({ key: `bad${i}`, value: m.value })),
      ]);

      await waitUntil(() => uniqueOrderEvents(clickhouse), (n) => n === unique);
      // A re-delivered batch may dead-letter a message twice; the source offset identifies it.
      const distinctLetters = (all: KafkaMessage[]) =>
        [...new Map(all.map((m) => [`${header(m, 'dlq.source.partition')}/${header(m, 'dlq.source.offset')}`, m])).values()];
      const deadLetters = distinctLetters(
        await readTopic(infra.kafka, topics.deadLetter, (all) => distinctLetters(all).length >= MALFORMED.length),
      );
      expect(deadLetters.map((m) => `${m.key} ${header(m, 'dlq.reason.code')}`).sort()).toEqual(
        MALFORMED.map((m, i) => `bad${i} ${m.code}`).sort(),
      );
      const byKey = new Map(deadLetters.map((m) => [m.key!.toString(), m]));
      MALFORMED.forEach((bad, i) => {
        const letter = byKey.get(`bad${i}`)!;
        expect(header(letter, 'dlq.reason.code'), `malformed #${i}`).toBe(bad.code);
        expect(header(letter, 'dlq.source.topic')).toBe(topics.orders);
        expect(letter.value!.equals(Buffer.from(bad.value))).toBe(true);
      });

      // As of the end of March: c4's April order is not yet placed.
      await runScoring(clickhouse, new Date('2026-03-31T00:00:00Z'));
      const got = await profilesByCustomer(clickhouse);
      expect(got.get('c1')).toMatchObject({ purchases_total: 1, revenue: '100' });
      expect(got.get('c2')).toMatchObject({ purchases_total: 2, revenue: '49.5' });
      expect(got.get('c3')).toMatchObject({ purchases_total: 0, revenue: '0', first_purchase_at: null });
      expect(got.has('c4')).toBe(false);
      expect(got.get('c2')!.first_purchase_at).toBe('2026-03-01 10:00:00.000');
      expect(got.get('c2')!.last_purchase_at).toBe('2026-03-06 09:00:00.000');

      const expected = referenceProfiles(sample, new Date('2026-03-31T00:00:00Z'));
      for (const [customer, want] of expected) {
        const row = got.get(customer);
        expect(row, customer).toBeDefined();
        expect({ customer, purchases: row!.purchases_total, revenue: Number(row!.revenue).toFixed(4) }).toEqual({
          customer,
          purchases: want.purchases,
          revenue: centsToDecimal4(want.revenueCents),
        });
      }
      expect(got.size).toBe(expected.size + 3);

      // Operations: health, readiness and Prometheus metrics with per-reason counts.
      const base = `http://127.0.0.1:${ingest.healthPort}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`crm_ingest_events_total\\{topic="${topics.orders}",outcome="dead_lettered",reason="missing_fx_rate"\\} [1-9]`));
      expect(metrics).toMatch(/crm_ingest_write_seconds_count\{table="orders"\} [1-9]/);
      expect(metrics).toMatch(/crm_ingest_consumer_lag\{topic="[^"]+",partition="\d"\} 0/);

      // Producing everything again changes no result.
      await produce(infra.kafka, topics.orders, events.map((e) => ({ key: e.customer_id, value: JSON.stringify(e) })));
      const before = JSON.stringify([...got]);
      await waitUntil(
        async () => (await committedMessages(infra.kafka, `${namespace}.crm-ingest`, [topics.orders])) >= events.length * 2 + MALFORMED.length,
        Boolean,
      );
      await runScoring(clickhouse, new Date('2026-03-31T00:00:00Z'));
      expect(JSON.stringify([...(await profilesByCustomer(clickhouse))])).toBe(before);
      expect(await uniqueOrderEvents(clickhouse)).toBe(unique);
    } finally {
      await ingest.stop();
      await clickhouse.close();
    }
  });
});

