import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import { encodeEvent, type OrderEvent } from '@crm/events';
import { createClickHouse, type ClickHouseClient } from '@crm/clickhouse';
import { createLogger } from '@crm/runtime';
import { loadIngestConfig, startIngest, type IngestService } from '@crm/ingest';
import type { TopicNames } from '@crm/kafka';
import { useTestInfrastructure } from './support/harness.js';
import { committedMessages, createTestTopics, header, produce, readTopic, type Outgoing } from './support/kafka.js';
import { orderEvent } from './support/events.js';
import { waitUntil } from './support/wait.js';

/**
 * Single messages that used to stop ingest for every partition (issue 11), each
 * produced between valid orders through the real broker into the real ingest and
 * ClickHouse: afterwards the valid orders are stored, the bad message is
 * dead-lettered with its reason, the offsets are committed past it, and ingest
 * never crashed.
 */
const infra = useTestInfrastructure();
let env: ReturnType<typeof infra.env>;
let topics: TopicNames;
let ingest: IngestService;
let clickhouse: ClickHouseClient;
const fatal: Error[] = [];
let produced = 0;

beforeAll(async () => {
  env = infra.env();
  topics = await createTestTopics(infra.kafka, env.CRM_TOPIC_NAMESPACE);
  const config = loadIngestConfig(env);
  ingest = await startIngest(config, createLogger('ingest', 'warn'), { onCrash: (error) => fatal.push(error) });
  clickhouse = createClickHouse(config);
});
afterAll(async () => {
  await ingest?.stop();
  await clickhouse?.close();
});

const json = (e: unknown): Outgoing => ({ key: (e as OrderEvent).customer_id, value: JSON.stringify(e) });
const avro = (e: OrderEvent): Outgoing => ({ key: e.customer_id, value: encodeEvent('orders', e, 'avro'), headers: { 'content-type': 'application/avro' } });
const storedFor = async (customers: string[]) =>
  Number(
    (await (await clickhouse.query({ query: 'SELECT uniqExact(event_id) AS n FROM orders WHERE customer_id IN {c:Array(String)}', query_params: { c: customers }, format: 'JSONEachRow' })).json<{ n: string }>())[0]!.n,
  );
const distinctLetters = (all: KafkaMessage[]) => [...new Map(all.map((m) => [`${header(m, 'dlq.source.partition')}/${header(m, 'dlq.source.offset')}`, m])).values()];

/** Produces valid orders around the bad messages; returns the dead letters of the bad ones once all is handled. */
async function around(name: string, bad: Outgoing[], options: { deadLetters?: number } = {}): Promise<KafkaMessage[]> {
  const customers = [`${name}-before`, `${name}-after`];
  const good = customers.map((c) => orderEvent(c, Date.parse('2026-03-01T10:00:00Z'), 12.5));
  const messages = [json(good[0]), ...bad, json(good[1])];
  await produce(infra.kafka, topics.orders, messages);
  produced += messages.length;
  await waitUntil(async () => (fatal.length > 0 ? -1 : await storedFor(customers)), (n) => n === 2 || n === -1, 60_000);
  expect(fatal).toEqual([]);
  await waitUntil(() => committedMessages(infra.kafka, `${env.CRM_TOPIC_NAMESPACE}.crm-ingest`, [topics.orders]), (n) => n >= produced, 60_000);
  const keys = new Set(bad.map((b) => b.key));
  const expected = options.deadLetters ?? bad.length;
  return distinctLetters(await readTopic(infra.kafka, topics.deadLetter, (all) => distinctLetters(all.filter((m) => keys.has(m.key?.toString() ?? ''))).length >= expected, 30_000)).filter((m) =>
    keys.has(m.key?.toString() ?? ''),
  );
}
const codes = (letters: KafkaMessage[]) => letters.map((m) => `${m.key} ${header(m, 'dlq.reason.code')} ${header(m, 'dlq.reason.path')}`).sort();

describe('no single message stops ingest', () => {
  it('instants ClickHouse DateTime64 refuses (years 1000 and 2300, JSON and Avro) are dead-lettered as timestamp_out_of_range', async () => {
    const base = (key: string) => orderEvent(key, Date.parse('2026-03-01T10:00:00Z'), 10);
    const letters = await around('instants', [
      json({ ...base('y1000-json'), placed_at: '1000-01-01T00:00:00Z' }),
      avro({ ...base('y2300-avro'), placed_at: '2300-01-01T00:00:00.000Z' }),
      json({ ...base('y1969-json'), occurred_at: '1969-12-31T23:59:59Z' }),
    ]);
    expect(codes(letters)).toEqual(['y1000-json timestamp_out_of_range placed_at', 'y1969-json timestamp_out_of_range occurred_at', 'y2300-avro timestamp_out_of_range placed_at']);
    // The first and the last storable instant are stored, exactly, in both encodings.
    const edges = [
      json({ ...base('edge-first-json'), placed_at: '1970-01-01T00:00:00Z', occurred_at: '1970-01-01T00:00:00.001Z' }),
      avro({ ...base('edge-last-avro'), placed_at: '2286-11-20T17:46:39.999Z' }),
    ];
    await produce(infra.kafka, topics.orders, edges);
    produced += edges.length;
    await waitUntil(() => storedFor(['edge-first-json', 'edge-last-avro']), (n) => n === 2);
    const instants = await (await clickhouse.query({ query: "SELECT customer_id, toString(placed_at) AS placed, toString(occurred_at) AS occurred FROM orders WHERE customer_id LIKE 'edge-%' ORDER BY customer_id", format: 'JSONEachRow' })).json();
    expect(instants).toEqual([
      { customer_id: 'edge-first-json', placed: '1970-01-01 00:00:00.000', occurred: '1970-01-01 00:00:00.001' },
      { customer_id: 'edge-last-avro', placed: '2286-11-20 17:46:39.999', occurred: '2026-03-01 10:00:00.000' },
    ]);
  });

  it('a lone UTF-16 surrogate ("\\ud800") in any string is dead-lettered as invalid_value', async () => {
    const base = orderEvent('surrogate', Date.parse('2026-03-01T10:00:00Z'), 10);
    const text = (field: string, value: string) => JSON.stringify({ ...base, [field]: value }).replace('LONE', '\\ud800');
    const letters = await around('surrogate', [
      { key: 'surrogate-order', value: text('order_id', 'o-LONE') },
      { key: 'surrogate-item', value: JSON.stringify({ ...base, items: [{ sku: 'LONE', category: 'c', quantity: 1, unit_price: 10 }] }).replace('LONE', '\\udc00') },
    ]);
    expect(codes(letters)).toEqual(['surrogate-item invalid_value items.0.sku', 'surrogate-order invalid_value order_id']);
  });

  it('an 81-byte Avro order whose items block claims 10^8 entries is refused without allocating them', async () => {
    const event = { ...orderEvent('bomb', Date.parse('2026-03-01T10:00:00Z'), 10), items: [], order_id: 'o', event_id: '00000000-0000-0000-0000-000000000000' };
    const bytes = encodeEvent('orders', event, 'avro');
    // The closing empty-array byte becomes a block count of 10^8 (zig-zag varint).
    const bomb = Buffer.concat([bytes.subarray(0, -1), Buffer.from([0x80, 0x84, 0xaf, 0x5f])]);
    expect(bomb.length).toBeLessThan(100);
    const letters = await around('bomb', [{ key: 'bomb', value: bomb, headers: { 'content-type': 'application/avro' } }]);
    expect(codes(letters)).toEqual(['bomb invalid_value items']);
  });

  it('a malformed message near 1 MiB and a burst of small malformed ones on one partition: dead letters in bounded sends, the big one cut to a prefix with length and SHA-256', async () => {
    const big = Buffer.alloc(1_040_000, 0x7b); // "{{{{…": not JSON, a whisker under the broker's limit with its dlq headers
    const burst = Array.from({ length: 4000 }, (_, i): Outgoing => ({ key: 'burst', value: `not json ${i} ${'x'.repeat(300)}` }));
    const letters = await around('sizes', [{ key: 'big', value: big }, ...burst]);
    expect(letters.filter((l) => l.key?.toString() === 'burst')).toHaveLength(4000);
    const cut = letters.find((l) => l.key?.toString() === 'big')!;
    expect(header(cut, 'dlq.reason.code')).toBe('invalid_encoding');
    expect(header(cut, 'dlq.truncated')).toBe('true');
    expect(header(cut, 'dlq.original.value_bytes')).toBe(String(big.length));
    const { createHash } = await import('node:crypto');
    expect(header(cut, 'dlq.original.value_sha256')).toBe(createHash('sha256').update(big).digest('hex'));
    expect(big.subarray(0, cut.value!.length).equals(cut.value!)).toBe(true);
  });

  it('a row ClickHouse refuses although it passed validation is isolated, dead-lettered as storage_rejected with its error code, and the rest of its batch stored', async () => {
    await clickhouse.command({ query: "ALTER TABLE orders ADD CONSTRAINT test_refused CHECK customer_id != 'refused-by-storage'" });
    try {
      const fellows = Array.from({ length: 20 }, (_, i) => orderEvent(`fellow-${i}`, Date.parse('2026-03-01T10:00:00Z'), 10));
      const refused = orderEvent('refused-by-storage', Date.parse('2026-03-01T10:00:00Z'), 10);
      const letters = await around('storage', [...fellows.slice(0, 10).map(json), json(refused), ...fellows.slice(10).map(json)], { deadLetters: 1 });
      expect(codes(letters.filter((l) => l.key?.toString() === 'refused-by-storage'))).toEqual(['refused-by-storage storage_rejected ']);
      expect(header(letters.find((l) => l.key?.toString() === 'refused-by-storage')!, 'dlq.reason.message')).toMatch(/ClickHouse error 469/);
      expect(await storedFor(fellows.map((f) => f.customer_id))).toBe(20);
    } finally {
      await clickhouse.command({ query: 'ALTER TABLE orders DROP CONSTRAINT test_refused' });
    }
  });

  it('ingest is still alive and ready after all of it', async () => {
    expect(fatal).toEqual([]);
    expect((await fetch(`http://127.0.0.1:${ingest.healthPort}/readyz`)).status).toBe(200);
  });
});
