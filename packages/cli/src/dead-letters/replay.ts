import type { Kafka } from 'kafkajs';
import type { SuppressionList } from '@crm/clickhouse';
import { chunkBySize, createProducer, DEFAULT_MAX_SEND_BYTES, groupId, INPUT_STREAMS, topicNames } from '@crm/kafka';
import { replayTarget, type ReplayTarget, type Unreplayable } from './replay-message.js';

export interface ReplayOptions {
  deadLetterTopic: string;
  namespace: string;
  /** Only letters with this reason code; all when undefined. */
  reason?: string;
  /** Erased ids: their letters are not replayed (counted as refused.erased). */
  suppression?: SuppressionList;
  onProgress?: (done: { scanned: number; replayed: number; total: number }) => void;
}

export interface ReplayResult {
  scanned: number;
  replayed: number;
  byTopic: Record<string, number>;
  /** Letters matching the filter that were not replayed, by why. */
  refused: Partial<Record<Unreplayable, number>>;
}

/** The topics a replay may write to: the namespace's input topics, nothing else. */

/**
 * Re-injects dead letters into their source topics, up to the end of the
 * dead-letter topic as it was when the replay started (what fails again is
 * dead-lettered anew, behind that point). A consumer group per reason filter
 * remembers what was replayed, and offsets move only after the source topic
 * acknowledged, so an interrupted replay resumes without skipping anything;
 * re-injected events that were already accepted are de-duplicated on event_id.
 */
export async function replayDeadLetters(kafka: Kafka, options: ReplayOptions): Promise<ReplayResult> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(options.deadLetterTopic)).map((p) => [p.partition, BigInt(p.high)]));
  const group = groupId(options.namespace, `crm-dlq-replay.${options.reason ?? 'all'}`);
  const committed = await admin.fetchOffsets({ groupId: group, topics: [options.deadLetterTopic] });
  await admin.disconnect();

  const starts = new Map(committed[0]!.partitions.map((p) => [p.partition, BigInt(p.offset === '-1' ? 0 : p.offset)]));
  const remaining = new Set([...ends].filter(([partition, end]) => (starts.get(partition) ?? 0n) < end).map(([p]) => p));
  const total = [...ends].reduce((n, [p, end]) => n + Number(end - (starts.get(p) ?? 0n)), 0);
  const result: ReplayResult = { scanned: 0, replayed: 0, byTopic: {}, refused: {} };
  const names = topicNames(options.namespace);
  const inputTopics = new Set(INPUT_STREAMS.map((k) => names[k]));
  if (remaining.size === 0) return result;

  const producer = createProducer(kafka);
  const consumer = kafka.consumer({ groupId: group });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [options.deadLetterTopic], fromBeginning: true });
  let finish!: () => void;
  let fail!: (error: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => ((finish = resolve), (fail = reject)));
  consumer.on(consumer.events.CRASH, ({ payload }) => fail(payload.error));

  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const end = ends.get(batch.partition) ?? 0n;
      const inRange = batch.messages.filter((m) => BigInt(m.offset) < end);
      const targets: ReplayTarget[] = [];
      for (const m of inRange) {
        const outcome = replayTarget(m, batch.partition, options.reason, inputTopics, options.suppression);
        if (outcome === undefined) continue;
        if ('refused' in outcome) result.refused[outcome.refused] = (result.refused[outcome.refused] ?? 0) + 1;
        else targets.push(outcome);
      }
      const byTopic = new Map<string, ReplayTarget[]>();
      for (const t of targets) byTopic.set(t.topic, [...(byTopic.get(t.topic) ?? []), t]);
      // In requests the broker takes: a fetched batch of dead letters can hold many megabytes.
      for (const [topic, ts] of byTopic) {
        for (const messages of chunkBySize(ts.map((t) => t.message), DEFAULT_MAX_SEND_BYTES)) await producer.send({ topic, acks: -1, messages });
      }
      for (const [topic, ts] of byTopic) result.byTopic[topic] = (result.byTopic[topic] ?? 0) + ts.length;
      result.scanned += inRange.length;
      result.replayed += targets.length;
      const last = inRange.at(-1);
      if (last !== undefined) {
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }]);
      }
      options.onProgress?.({ scanned: result.scanned, replayed: result.replayed, total });
      if (last !== undefined && BigInt(last.offset) + 1n >= end) {
        remaining.delete(batch.partition);
        if (remaining.size === 0) finish();
      }
    },
  });
  try {
    await finished;
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
  }
  return result;
}
