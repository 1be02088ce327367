import { describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import { decodeEvent, type SegmentChangeEvent } from '@crm/events';
import { createClickHouse, migrateOnStart } from '@crm/clickhouse';
import { createLogger } from '@crm/runtime';
import { runScoring } from '@crm/scoring';
import { rawOrderRow } from '@crm/sample-data';
import { loadPublisherConfig, commitMarks, CUSTOMER_AT_RISK, publisherBacklog, SEGMENT_CHANGES, startPublisher } from '@crm/publisher';
import { readToEnd } from './faults/stack.js';
import { waitUntil } from './support/wait.js';
import { useTestInfrastructure } from './support/harness.js';
import { createTestTopics, header, readTopic } from './support/kafka.js';
import { runCli } from './support/cli.js';

const infra = useTestInfrastructure();
const DAY = 86_400_000;
const T = Date.parse('2026-06-30T00:00:00Z');

const order = (customer: string, placedAt: number) => rawOrderRow(customer, placedAt, 25);

describe('publisher: segment_changes outbox → crm.segment-changes.v1', () => {
  it('publishes exactly the recorded changes, keyed by customer, once; a restart and an unchanged run publish nothing', { timeout: 180_000 }, async () => {
    const env = infra.env({ PUBLISHER_POLL_MS: '200', PUBLISHER_HEALTH_PORT: '0', PUBLISHER_ENCODING: 'avro' });
    const topics = await createTestTopics(infra.kafka, env.CRM_TOPIC_NAMESPACE);
    const config = loadPublisherConfig(env);
    await migrateOnStart(config, createLogger('test', 'warn'));
    const clickhouse = createClickHouse(config);
    const outbox = async () =>
      (await clickhouse.query({
        query: 'SELECT toString(event_id) AS event_id, customer_id, segment_type, `from`, `to` FROM segment_changes FINAL',
        format: 'JSONEachRow',
      })).json<{ event_id: string; customer_id: string; segment_type: string; from: string | null; to: string }>();
    const decoded = (messages: KafkaMessage[]) =>
      messages.map((m) => {
        const result = decodeEvent('segment-changes', m.value!, header(m, 'content-type')!);
        if (!result.ok) throw new Error(result.rejection.message);
        expect(m.key!.toString()).toBe(result.event.customer_id);
        return result.event as SegmentChangeEvent;
      });
    const asKey = (c: { event_id: string; customer_id: string; segment_type: string; from: string | null; to: string }) =>
      `${c.event_id} ${c.customer_id} ${c.segment_type} ${c.from} ${c.to}`;

    await clickhouse.insert({
      table: 'orders',
      values: [order('a', T - 3 * DAY), order('a', T - 40 * DAY), order('b', T - 400 * DAY), order('c', T - 10 * DAY)],
      format: 'JSONEachRow',
    });
    await runScoring(clickhouse, new Date(T));
    const recorded = await outbox();
    expect(recorded.length).toBeGreaterThanOrEqual(6);

    let publisher = await startPublisher(config, createLogger('publisher', 'warn'));
    try {
      const sent = decoded(await readTopic(infra.kafka, topics.segmentChanges, (all) => all.length >= recorded.length, 30_000));
      expect(sent.map(asKey).sort()).toEqual(recorded.map(asKey).sort());

      // A restart resumes after what was sent.
      await publisher.stop();
      publisher = await startPublisher(config, createLogger('publisher', 'warn'));
      // An unchanged run records and publishes nothing.
      await runScoring(clickhouse, new Date(T));
      // Positive signal first: the publisher handled the run's commit mark; then the topic, to its end.
      const marks = Number(await commitMarks(clickhouse));
      await waitUntil(async () => publisher.handledCommits(), (handled) => handled >= marks, 30_000);
      expect(await readToEnd(infra.kafka, topics.segmentChanges)).toHaveLength(recorded.length);

      // b comes back after more than a year: its changes, and only new rows, are published.
      await clickhouse.insert({ table: 'orders', values: [order('b', T + DAY)], format: 'JSONEachRow' });
      await runScoring(clickhouse, new Date(T + 2 * DAY));
      const all = await outbox();
      const fresh = all.filter((c) => !recorded.some((r) => r.event_id === c.event_id));
      expect(fresh.find((c) => c.customer_id === 'b' && c.segment_type === 'lifecycle')).toMatchObject({ from: 'churned', to: 'reactivated' });
      const after = decoded(await readTopic(infra.kafka, topics.segmentChanges, (m) => m.length >= all.length, 30_000));
      expect(after.map(asKey).sort()).toEqual(all.map(asKey).sort());

      // What subscribers receive, as `crm tail` shows it to a person: decoded from Avro.
      const tail = await runCli(['tail', 'crm.segment-changes.v1'], env);
      expect(tail.code, tail.stderr).toBe(0);
      const shown = tail.stdout.trim().split('\n').map((l) => JSON.parse(l) as { key: string; encoding: string; event: SegmentChangeEvent });
      expect(shown.map((m) => m.event.event_id).sort()).toEqual(all.map((c) => c.event_id).sort());
      expect(shown.every((m) => m.encoding === 'application/avro' && m.key === m.event.customer_id)).toBe(true);
    } finally {
      await publisher.stop();
      await clickhouse.close();
    }
  });

  it('sends a mark only to the streams that still owe it: one already recorded by one stream goes to no topic twice', { timeout: 120_000 }, async () => {
    const env = infra.env({ PUBLISHER_POLL_MS: '200', PUBLISHER_HEALTH_PORT: '0' });
    const topics = await createTestTopics(infra.kafka, env.CRM_TOPIC_NAMESPACE);
    const config = loadPublisherConfig(env);
    await migrateOnStart(config, createLogger('test', 'warn'));
    const clickhouse = createClickHouse(config);
    try {
      await clickhouse.insert({ table: 'orders', values: [order('a', T - 3 * DAY), order('b', T - 400 * DAY)], format: 'JSONEachRow' });
      await runScoring(clickhouse, new Date(T));
      const marks = await (
        await clickhouse.query({ query: 'SELECT toString(changed_at) AS changed_at, toString(min(committed_at)) AS committed_at FROM outbox_commits GROUP BY changed_at', format: 'JSONEachRow' })
      ).json<{ changed_at: string; committed_at: string }>();
      expect(marks).toHaveLength(1);
      // As after a crash of an older publisher, whose streams recorded their marks one at a time.
      await clickhouse.insert({ table: 'publisher_marks', values: [{ stream: SEGMENT_CHANGES.name, ...marks[0] }], format: 'JSONEachRow' });
      expect(await publisherBacklog(clickhouse, CUSTOMER_AT_RISK)).toEqual({ marks: 1, pending: 1 });

      const publisher = await startPublisher(config, createLogger('publisher', 'warn'));
      try {
        // Positive signal first: the publisher handled the mark; then the bookkeeping and the topic.
        await waitUntil(async () => publisher.handledCommits(), (handled) => handled >= 1, 30_000);
        expect(await publisherBacklog(clickhouse, CUSTOMER_AT_RISK)).toEqual({ marks: 1, pending: 0 });
        expect(await publisherBacklog(clickhouse, SEGMENT_CHANGES)).toEqual({ marks: 1, pending: 0 });
        expect(await readToEnd(infra.kafka, topics.segmentChanges)).toHaveLength(0);
      } finally {
        await publisher.stop();
      }
    } finally {
      await clickhouse.close();
    }
  });
});
