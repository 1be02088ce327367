import { describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import type { ClickEvent, EventsByName } from '@crm/events';
import { createClickHouse, type ClickHouseClient } from '@crm/clickhouse';
import { createLogger } from '@crm/runtime';
import { generateCustomerEvents } from '@crm/sample-data';
import { runScoring } from '@crm/scoring';
import { loadIngestConfig, startIngest } from '@crm/ingest';
import { useTestInfrastructure } from './support/harness.js';
import { createTestTopics, encodeInputEvents, header, produce, readTopic, type Outgoing } from './support/kafka.js';
import { malformedVariants, type InputName, type Malformed } from './support/malformed.js';
import { uniqueName } from './support/namespace.js';
import { waitUntil } from './support/wait.js';

const infra = useTestInfrastructure();

const MAX_BYTES = 20_000;
const AS_OF = new Date('2026-06-30T00:00:00Z');

function envFor(namespace: string, database: string, extra: Record<string, string> = {}) {
  return loadIngestConfig({
    ...infra.env(),
    CLICKHOUSE_DATABASE: database,
    CRM_TOPIC_NAMESPACE: namespace,
    INGEST_HEALTH_PORT: '0',
    INGEST_MAX_MESSAGE_BYTES: String(MAX_BYTES),
    CRM_FX_RATES: '{"EUR":1.08,"JPY":0.0067,"GBP":1.27}',
    ...extra,
  });
}

async function eventIds(clickhouse: ClickHouseClient, table: string): Promise<string[]> {
  const result = await clickhouse.query({ query: `SELECT DISTINCT toString(event_id) AS id FROM ${table} ORDER BY id`, format: 'JSONEachRow' });
  return (await result.json<{ id: string }>()).map((r) => r.id);
}

async function snapshot(clickhouse: ClickHouseClient): Promise<string> {
  const tables = ['orders', 'clicks', 'tickets', 'surveys', 'identity_links'];
  const parts: unknown[] = [];
  for (const table of tables) {
    const result = await clickhouse.query({
      query: `SELECT * EXCEPT (source_partition, source_offset, ingested_at) FROM (SELECT * FROM ${table} LIMIT 1 BY event_id) ORDER BY toString(event_id)`.replace(
        table === 'identity_links' ? ' EXCEPT (source_partition, source_offset, ingested_at)' : '',
        '',
      ),
      format: 'JSONEachRow',
    });
    parts.push(await result.json());
  }
  const profiles = await clickhouse.query({ query: 'SELECT * EXCEPT (updated_at) FROM customer_profiles FINAL ORDER BY customer_id', format: 'JSONEachRow' });
  parts.push(await profiles.json());
  return JSON.stringify(parts);
}

const distinctLetters = (all: KafkaMessage[]) =>
  [...new Map(all.map((m) => [`${header(m, 'dlq.source.topic')}/${header(m, 'dlq.source.partition')}/${header(m, 'dlq.source.offset')}`, m])).values()];

describe('all four streams, both encodings, with malformed events interleaved', () => {
  const namespace = uniqueName('mixed');
  const database = uniqueName('crm');
  let clickhouse: ClickHouseClient;

  it('accepts exactly the good events and dead-letters exactly the bad ones with their reason', async () => {
    const topics = await createTestTopics(infra.kafka, namespace);
    const config = envFor(namespace, database);
    clickhouse = createClickHouse(config);
    const ingest = await startIngest(config, createLogger('ingest', 'warn'));
    try {
      const sample = generateCustomerEvents({ seed: 5, customers: 250, end: AS_OF, idPrefix: 'm5', duplicateShare: 0.05 });
      const names: InputName[] = ['orders', 'clicks', 'tickets', 'surveys'];
      const malformed: Malformed[] = [];
      for (const name of names) {
        const events = sample[name] as EventsByName[typeof name][];
        for (let i = 0; i < Math.min(events.length, 60); i++) {
          malformed.push(...malformedVariants(name, events[i]!, `${name}-${i}`, MAX_BYTES));
        }
      }
      const validCount = names.reduce((n, name) => n + sample[name].length, 0);
      expect(validCount).toBeGreaterThan(5_000);
      expect(malformed.length).toBeGreaterThan(2_000);

      // Interleave: each topic gets its good events with bad ones spread among them.
      await Promise.all(
        names.map((name) => {
          const good = encodeInputEvents(name, sample[name] as never);
          const bad = malformed.filter((m) => m.key.startsWith(`${name}-`));
          const mixed: Outgoing[] = [];
          const step = Math.max(1, Math.floor(good.length / Math.max(1, bad.length)));
          good.forEach((g, i) => {
            mixed.push(g);
            if (i % step === 0 && bad.length > 0) mixed.push(bad.shift()!);
          });
          mixed.push(...bad);
          return produce(infra.kafka, topics[name], mixed);
        }),
      );

      for (const name of names) {
        const expected = [...new Set((sample[name] as { event_id: string }[]).map((e) => e.event_id))].sort();
        await waitUntil(async () => (await eventIds(clickhouse, name)).length, (n) => n >= expected.length, 120_000);
        expect(await eventIds(clickhouse, name), name).toEqual(expected);
      }
      const linking = new Set(sample.clicks.filter((c: ClickEvent) => c.customer_id !== null).map((c) => c.event_id));
      expect(await eventIds(clickhouse, 'identity_links')).toEqual([...linking].sort());

      const letters = distinctLetters(await readTopic(infra.kafka, topics.deadLetter, (all) => distinctLetters(all).length >= malformed.length, 120_000));
      const got = letters.map((m) => `${m.key} ${header(m, 'dlq.reason.code')}`).sort();
      expect(got).toEqual(malformed.map((m) => `${m.key} ${m.code}`).sort());
      for (const letter of letters.slice(0, 50)) {
        const original = malformed.find((m) => m.key === letter.key!.toString())!;
        expect(letter.value!.equals(original.value as Buffer)).toBe(true);
        expect(header(letter, 'content-type')).toBe(original.headers!['content-type']);
        expect(header(letter, 'dlq.reason.message')).toBeTruthy();
        expect(Date.parse(header(letter, 'dlq.failed_at')!)).toBeGreaterThan(0);
      }
    } finally {
      await ingest.stop();
    }
  });

  it('replaying every topic from the beginning into the same database changes nothing', async () => {
    await runScoring(clickhouse, AS_OF);
    const before = await snapshot(clickhouse);
    const replay = await startIngest(envFor(namespace, database, { INGEST_GROUP_ID: 'replay' }), createLogger('replay', 'warn'));
    try {
      const admin = infra.kafka.admin();
      await admin.connect();
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${namespace}.crm.`) && !t.includes('dead-letter') && !t.includes('segment') && !t.includes('risk'));
      const ends = await Promise.all(topics.map(async (t) => (await admin.fetchTopicOffsets(t)).reduce((n, p) => n + Number(p.high), 0)));
      await waitUntil(
        async () => {
          const offsets = await admin.fetchOffsets({ groupId: `${namespace}.replay`, topics });
          return offsets.reduce((n, t) => n + t.partitions.reduce((m, p) => m + Math.max(0, Number(p.offset)), 0), 0);
        },
        (n) => n === ends.reduce((a, b) => a + b, 0),
        120_000,
      );
      await admin.disconnect();
    } finally {
      await replay.stop();
    }
    await runScoring(clickhouse, AS_OF);
    expect(await snapshot(clickhouse)).toBe(before);
    await clickhouse.close();
  });
});
