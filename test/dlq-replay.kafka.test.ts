import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import type { OrderEvent } from '@crm/events';
import { createClickHouse } from '@crm/clickhouse';
import { createLogger } from '@crm/runtime';
import { loadIngestConfig, startIngest } from '@crm/ingest';
import { replayDeadLetters } from '../packages/cli/src/dead-letters/replay.js';
import { useTestInfrastructure } from './support/harness.js';
import { createTestTopics, header, produce, readTopic } from './support/kafka.js';
import { uniqueName } from './support/namespace.js';
import { waitUntil } from './support/wait.js';
import { groupLag, readToEnd } from './faults/stack.js';

const infra = useTestInfrastructure();

const order = (currency: string, total: number, refunded = 0): OrderEvent => ({
  event_id: randomUUID(),
  occurred_at: '2026-05-01T10:00:00Z',
  schema_version: 1,
  order_id: randomUUID(),
  customer_id: 'c-chf',
  status: refunded > 0 ? 'refunded' : 'paid',
  placed_at: '2026-05-01T10:00:00Z',
  total,
  refunded_amount: refunded,
  currency,
  channel: 'web',
  payment_method: 'credit',
  items: [],
});

describe('crm dlq replay', () => {
  it('accepts a dead-lettered order once its currency rate is configured, exactly once; what still fails goes back with its reason', async () => {
    const namespace = uniqueName('dlq');
    const topics = await createTestTopics(infra.kafka, namespace);
    const env = {
      ...infra.env(),
      CRM_TOPIC_NAMESPACE: namespace,
      INGEST_HEALTH_PORT: '0',
    };
    const chf = order('CHF', 200);
    const broken = order('USD', 10, 20); // refunded_amount > total: fails however often it is replayed
    const letters = (all: KafkaMessage[]) => all.map((m) => `${m.key} ${header(m, 'dlq.reason.code')} ${header(m, 'dlq.replayed_from') ?? '-'}`);

    let ingest = await startIngest(loadIngestConfig(env), createLogger('ingest', 'warn'));
    await produce(infra.kafka, topics.orders, [
      { key: 'chf', value: JSON.stringify(chf) },
      { key: 'broken', value: JSON.stringify(broken) },
    ]);
    await readTopic(infra.kafka, topics.deadLetter, (all) => all.length >= 2);
    await ingest.stop();

    // The rate is configured; ingest restarts with it; the dead letters are replayed.
    const config = loadIngestConfig({ ...env, CRM_FX_RATES: '{"CHF":1.1}' });
    ingest = await startIngest(config, createLogger('ingest', 'warn'));
    const clickhouse = createClickHouse(config);
    try {
      // Delivery is at-least-once: a letter may exist twice; what counts is its source and reason.
      const before = await readTopic(infra.kafka, topics.deadLetter, (all) => all.length >= 2, 3_000);
      const first = await replayDeadLetters(infra.kafka, { deadLetterTopic: topics.deadLetter, namespace });
      expect(first).toEqual({ scanned: before.length, replayed: before.length, byTopic: { [topics.orders]: before.length }, refused: {} });

      const stored = async () => {
        const r = await clickhouse.query({ query: 'SELECT count() AS rows, uniqExact(event_id) AS events, toString(sum(total * fx_rate)) AS usd FROM orders FINAL', format: 'JSONEachRow' });
        return (await r.json<{ rows: number; events: number; usd: string }>())[0]!;
      };
      await waitUntil(stored, (s) => s.events === 1);
      // The broken order comes back to the dead-letter topic, marked as a replay, with its reason.
      const after = await readTopic(infra.kafka, topics.deadLetter, (all) => all.some((m) => header(m, 'dlq.replayed_from') !== undefined), 30_000);
      const replayedBack = after.filter((m) => header(m, 'dlq.replayed_from') !== undefined);
      expect(new Set(letters(replayedBack).map((l) => l.split(' ').slice(0, 2).join(' ')))).toEqual(new Set(['broken invalid_amount']));
      expect(new Set(letters(after.filter((m) => !replayedBack.includes(m))).map((l) => l.split(' ').slice(0, 2).join(' ')))).toEqual(
        new Set(['chf missing_fx_rate', 'broken invalid_amount']),
      );

      // Replaying the currency letters again re-sends the CHF order: still one order, converted at the rate.
      const second = await replayDeadLetters(infra.kafka, { deadLetterTopic: topics.deadLetter, namespace, reason: 'missing_fx_rate' });
      expect(second.replayed).toBe(before.filter((m) => header(m, 'dlq.reason.code') === 'missing_fx_rate').length);
      expect(second.replayed).toBeGreaterThan(0);
      // Positive signal first: ingest committed everything on the orders topic (it dead-letters before it commits).
      await waitUntil(() => groupLag(infra.kafka, `${namespace}.crm-ingest`, [topics.orders]), (lag) => lag.lag === 0n, 60_000);
      expect(await stored()).toEqual({ rows: 1, events: 1, usd: '220' });
      // Nothing new was dead-lettered by the second replay.
      expect((await readToEnd(infra.kafka, topics.deadLetter)).length).toBe(after.length);
    } finally {
      await ingest.stop();
      await clickhouse.close();
    }
  });

  it('writes only to the namespace\'s input topics: a letter naming any other topic in dlq.source.topic is refused, and so is one cut to a prefix', async () => {
    const namespace = uniqueName('dlq');
    const topics = await createTestTopics(infra.kafka, namespace);
    const letter = (source: string, extra: Record<string, string> = {}) => ({
      key: 'k',
      value: JSON.stringify(order('USD', 1)),
      headers: { 'content-type': 'application/json', 'dlq.source.topic': source, 'dlq.reason.code': 'invalid_value', ...extra },
    });
    await produce(infra.kafka, topics.deadLetter, [
      letter(topics.segmentChanges),
      letter('crm.orders.v1'), // another namespace's input topic
      letter(topics.orders, { 'dlq.truncated': 'true' }),
      letter(topics.clicks),
    ]);
    const result = await replayDeadLetters(infra.kafka, { deadLetterTopic: topics.deadLetter, namespace });
    expect(result).toEqual({ scanned: 4, replayed: 1, byTopic: { [topics.clicks]: 1 }, refused: { not_an_input_topic: 2, truncated: 1 } });
    const admin = infra.kafka.admin();
    await admin.connect();
    const ends = async (topic: string) => (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
    expect({ segmentChanges: await ends(topics.segmentChanges), orders: await ends(topics.orders), clicks: await ends(topics.clicks) }).toEqual({ segmentChanges: 0, orders: 0, clicks: 1 });
    await admin.disconnect();
  });
});
