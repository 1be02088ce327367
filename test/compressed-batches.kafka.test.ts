import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { encodeEvent } from '@crm/events';
import { createClickHouse } from '@crm/clickhouse';
import { createLogger } from '@crm/runtime';
import { loadIngestConfig, startIngest } from '@crm/ingest';
import { replayDeadLetters } from '../packages/cli/src/dead-letters/replay.js';
import { useTestInfrastructure } from './support/harness.js';
import { committedMessages, createTestTopics } from './support/kafka.js';
import { orderEvent } from './support/events.js';
import { KAFKA_COMPRESSIONS, produceWithLibrdkafka } from './support/librdkafka.js';
import { runCli } from './support/cli.js';
import { waitUntil } from './support/wait.js';
import { spawnService } from './support/processes.js';
import { isRunning } from './support/services.js';

const infra = useTestInfrastructure();
const PER_CODEC = 50;

/** Half JSON, half Avro, keyed by customer as platforms send them. */
function orders(codec: string) {
  return Array.from({ length: PER_CODEC }, (_, i) => {
    const event = orderEvent(`${codec}-c${i % 7}`, Date.parse('2026-03-01T10:00:00Z') + i * 60_000, 10 + i);
    const avro = i % 2 === 1;
    return {
      event,
      message: {
        key: event.customer_id,
        value: avro ? encodeEvent('orders', event, 'avro') : JSON.stringify(event),
        headers: { 'content-type': avro ? 'application/avro' : 'application/json' },
      },
    };
  });
}

describe('batches compressed by a librdkafka producer, every codec Kafka has', () => {
  it("ingest stores every order, scoring's incremental consumer reads them, crm tail prints them and crm dlq replay re-injects dead letters, for gzip, snappy, lz4 and zstd", { timeout: 180_000 }, async () => {
    const env = infra.env();
    const topics = await createTestTopics(infra.kafka, env.CRM_TOPIC_NAMESPACE);
    const brokers = inject('kafkaBrokers');
    const fatal: Error[] = [];
    const config = loadIngestConfig(env);
    const ingest = await startIngest(config, createLogger('ingest', 'warn'), { onCrash: (error) => fatal.push(error) });
    // In a process of its own, as crm up runs it: the codecs it reads with are its own, not ingest's.
    const scoring = spawnService('services/scoring/src/main.ts', env);
    const clickhouse = createClickHouse(config);
    const stored = async () =>
      Number((await (await clickhouse.query({ query: 'SELECT uniqExact(event_id) AS n FROM orders', format: 'JSONEachRow' })).json<{ n: string }>())[0]!.n);
    try {
      const sent = Object.fromEntries(KAFKA_COMPRESSIONS.map((codec) => [codec, orders(codec)]));
      for (const codec of KAFKA_COMPRESSIONS) await produceWithLibrdkafka(brokers, topics.orders, codec, sent[codec]!.map((o) => o.message));
      await waitUntil(stored, (n) => n === PER_CODEC * KAFKA_COMPRESSIONS.length || fatal.length > 0, 90_000);
      expect(fatal).toEqual([]);
      const perCodec = await (
        await clickhouse.query({ query: "SELECT splitByChar('-', customer_id)[1] AS codec, toString(uniqExact(event_id)) AS n FROM orders GROUP BY codec ORDER BY codec", format: 'JSONEachRow' })
      ).json<{ codec: string; n: string }>();
      expect(perCodec).toEqual([...KAFKA_COMPRESSIONS].sort().map((codec) => ({ codec, n: String(PER_CODEC) })));
      await waitUntil(() => committedMessages(infra.kafka, `${env.CRM_TOPIC_NAMESPACE}.crm-ingest`, [topics.orders]), (n) => n === PER_CODEC * KAFKA_COMPRESSIONS.length);
      // Scoring commits a batch only after re-scoring it: every compressed batch was decoded.
      await waitUntil(() => committedMessages(infra.kafka, `${env.CRM_TOPIC_NAMESPACE}.crm-scoring-incremental`, [topics.orders]), (n) => n === PER_CODEC * KAFKA_COMPRESSIONS.length || !isRunning(scoring), 90_000);
      expect(isRunning(scoring)).toBe(true);
      // Seven customers a codec cannot carry a model fit; that error is about the data, not the stream.
      expect(scoring.lines.filter((l) => Number(l.level) >= 50 && l.model === undefined).map((l) => l.msg)).toEqual([]);

      // crm tail reads the same compressed batches and decodes every event.
      const tail = await runCli(['tail', 'crm.orders.v1', '--max', '1000'], env);
      expect(tail.code, tail.stderr).toBe(0);
      const printed = tail.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event?: { event_id: string } });
      expect(new Set(printed.map((p) => p.event?.event_id))).toEqual(new Set(Object.values(sent).flat().map((o) => o.event.event_id)));

      // Dead letters that some other tool wrote compressed: crm dlq replay reads them and re-injects them.
      const letters = KAFKA_COMPRESSIONS.map((codec) => {
        const event = orderEvent(`replayed-${codec}`, Date.parse('2026-03-02T10:00:00Z'), 5);
        return { codec, event, message: { key: event.customer_id, value: JSON.stringify(event), headers: { 'content-type': 'application/json', 'dlq.source.topic': topics.orders, 'dlq.reason.code': 'missing_fx_rate' } } };
      });
      for (const l of letters) await produceWithLibrdkafka(brokers, topics.deadLetter, l.codec, [l.message]);
      const replay = await replayDeadLetters(infra.kafka, { deadLetterTopic: topics.deadLetter, namespace: env.CRM_TOPIC_NAMESPACE });
      expect(replay).toMatchObject({ scanned: letters.length, replayed: letters.length });
      await waitUntil(stored, (n) => n === PER_CODEC * KAFKA_COMPRESSIONS.length + letters.length);
      expect(fatal).toEqual([]);
    } finally {
      await scoring.kill('SIGTERM');
      await ingest.stop();
      await clickhouse.close();
    }
  });
});
