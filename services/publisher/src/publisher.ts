import type { Message, Producer } from 'kafkajs';
import { contentTypeOf, encodeEvent, SCHEMAS, type Encoding } from '@crm/events';
import { connectProducer, createKafka, createProducer, topicNames, type TopicNames } from '@crm/kafka';
import { classifyClickHouseError, createClickHouse, migrateOnStart, type ClickHouseClient } from '@crm/clickhouse';
import { Readiness, sleep, startHealthServer, type Logger } from '@crm/runtime';
import type { PublisherConfig } from './config.js';
import { createAlarm, followCommitNotices } from './commit-notices.js';
import {
  commitMarks,
  CUSTOMER_AT_RISK,
  markEvents,
  pendingMarks,
  readLegacyCursor,
  readLowWater,
  recordPublished,
  recordSkipped,
  SEGMENT_CHANGES,
  START,
  type OutboxStream,
  type Progress,
  type StreamRow,
} from './outbox.js';

const STREAMS: readonly OutboxStream[] = [SEGMENT_CHANGES, CUSTOMER_AT_RISK];

/** How many commit marks one pass takes at most: many small incremental writes go out together. */
const MARKS_PER_PASS = 500;

/**
 * Sends the segment_changes outbox to crm.segment-changes.v1 (every change,
 * risk decisions included) and crm.customer-at-risk.v1 (entering risk),
 * keyed by customer, oldest first. At least once: a stream records a commit
 * mark as published only after Kafka acknowledged all its rows, so a crash
 * may resend (same event_ids, same payloads), never lose. Marks are read by
 * id, so a write that commits after a later one is still sent.
 */
export async function startPublisher(
  config: PublisherConfig,
  logger: Logger,
  options: { signal?: AbortSignal } = {},
): Promise<{ healthPort: number; handledCommits(): number; stop(): Promise<void> }> {
  const topics = topicNames(config.CRM_TOPIC_NAMESPACE);
  const stopping = new AbortController();
  options.signal?.addEventListener('abort', () => stopping.abort(), { once: true });
  // The health server answers at once; ClickHouse and the broker are waited for, not ready meanwhile.
  const readiness = new Readiness({ clickhouse: 'waiting for ClickHouse', producer: 'waiting for the broker' });
  const health = await startHealthServer({ port: config.PUBLISHER_HEALTH_PORT, readiness });
  logger.info({ healthPort: health.port }, 'health server listening');
  const kafka = createKafka(config, { clientId: 'crm-publisher', logger });
  const producer = createProducer(kafka);
  const clickhouse = createClickHouse(config);
  try {
    await readiness.until('clickhouse', 'waiting for ClickHouse', () => migrateOnStart(config, logger, stopping.signal));
    await readiness.until('producer', 'waiting for the broker', () => connectProducer(producer, logger, stopping.signal));
  } catch (error) {
    await Promise.all([producer.disconnect().catch(() => undefined), clickhouse.close(), health.close()]);
    throw error;
  }
  // A send waiting for a broker that is gone never returns: readiness notices the loop stopped turning.
  readiness.expectProgress('loop', config.PUBLISHER_PROGRESS_DEADLINE_SECONDS * 1000, 'a poll of the outbox');
  const target: Target = {
    clickhouse,
    producer,
    topics,
    encoding: config.PUBLISHER_ENCODING,
    batchSize: config.PUBLISHER_BATCH_SIZE,
    maxRequestBytes: config.PUBLISHER_MAX_REQUEST_BYTES,
    delayAfterSendMs: config.PUBLISHER_TEST_DELAY_AFTER_SEND_MS,
    logger,
  };

  // Scoring's notice of a commit mark ends the wait at once; the poll is what remains when notices do not come.
  const alarm = createAlarm();
  const notices = followCommitNotices(kafka, { namespace: config.CRM_TOPIC_NAMESPACE, topic: topics.outboxCommits, logger, onNotice: () => alarm.wake() });
  let seen: string | undefined;
  const loop = (async () => {
    // The outbox is read only when the number of commit marks changed: polling stays one tiny query.
    // Progress is read once and then kept: this publisher is the only one that moves it.
    // `seen` (outside): how many commit marks were fully published, for tests' positive signal.
    let progress: Progress[] | undefined;
    while (!stopping.signal.aborted) {
      try {
        const marks = await commitMarks(clickhouse);
        if (marks !== seen) {
          progress ??= await Promise.all(
            STREAMS.map(async (stream) => ({
              low: await readLowWater(clickhouse, stream, config.PUBLISHER_LATE_MARK_GRACE_MS),
              legacy: await readLegacyCursor(clickhouse, stream),
            })),
          );
          progress = await publishPending(progress, target, config.PUBLISHER_LATE_MARK_GRACE_MS);
          seen = marks;
        }
        readiness.progressed('loop');
      } catch (error) {
        // After a failure progress is read again: what was recorded is what stands.
        progress = undefined;
        logger.error({ err: classifyClickHouseError(error, 'publish the outbox') }, 'publishing failed; retrying');
      }
      await alarm.sleep(config.PUBLISHER_POLL_MS, stopping.signal);
    }
  })();
  logger.info({ healthPort: health.port, topics: STREAMS.map((s) => topics[s.topic]) }, 'publisher running');
  return {
    healthPort: health.port,
    handledCommits: () => Number(seen ?? 0),
    stop: async () => {
      stopping.abort();
      readiness.forget('loop');
      await loop;
      await notices.stop();
      await producer.disconnect();
      await clickhouse.close();
      await health.close();
    },
  };
}

interface Target {
  clickhouse: ClickHouseClient;
  producer: Producer;
  topics: TopicNames;
  encoding: Encoding;
  batchSize: number;
  maxRequestBytes: number;
  delayAfterSendMs: number;
  logger: Logger;
}

const maxText = (a: string, b: string) => (a > b ? a : b);
const minusMs = (text: string, ms: number) => new Date(Date.parse(`${text.replace(' ', 'T')}Z`) - ms).toISOString().replace('T', ' ').replace('Z', '');

/**
 * Every commit mark not yet published, a pass of marks at a time, for both
 * streams at once: the marks and their rows are read once, and a mark is
 * recorded for each stream that owed it only after Kafka acknowledged all of
 * that pass's sends. Returns the new progress of each stream.
 */
async function publishPending(from: readonly Progress[], target: Target, graceMs: number): Promise<Progress[]> {
  let progress = [...from];
  for (;;) {
    const started = Date.now();
    const { count, owed } = await pendingMarks(target.clickhouse, STREAMS.map((stream, i) => ({ stream, progress: progress[i]! })), MARKS_PER_PASS);
    if (count === 0) return progress;
    let cursor = START;
    const sent = new Map<OutboxStream, number>();
    for (;;) {
      const page = await markEvents(target.clickhouse, owed, cursor, target.batchSize);
      for (const [stream, n] of await send(page.rows, target)) sent.set(stream, (sent.get(stream) ?? 0) + n);
      cursor = page.cursor;
      if (page.rows.length < target.batchSize) break;
    }
    if (target.delayAfterSendMs > 0) await sleep(target.delayAfterSendMs);
    await recordPublished(target.clickhouse, owed);
    progress = progress.map((p, i) => {
      const newest = owed[i]!.marks.reduce((m, mark) => maxText(m, mark.committedAt), p.low);
      return { ...p, low: maxText(p.low, minusMs(newest, graceMs)) };
    });
    for (const { stream, marks } of owed) {
      const published = sent.get(stream) ?? 0;
      if (published > 0) target.logger.info({ stream: stream.name, published, marks: marks.length }, 'events published');
    }
    target.logger.debug({ marks: count, sent: Object.fromEntries([...sent].map(([s, n]) => [s.name, n])), ms: Date.now() - started }, 'publisher pass');
    if (count < MARKS_PER_PASS) return progress;
  }
}

/**
 * Sends one page, each stream's rows to its topic in requests of at most
 * maxRequestBytes (the broker refuses oversized ones, which would stop the
 * stream). A row that does not encode against its schema is logged with its
 * id, recorded in publisher_skipped and passed over. Returns how many events
 * each stream sent.
 */
async function send(rows: readonly StreamRow[], target: Target): Promise<Map<OutboxStream, number>> {
  const skipped: { stream: OutboxStream; eventId: string; changedAt: string; reason: string }[] = [];
  const messages = new Map<OutboxStream, Message[]>(STREAMS.map((stream) => [stream, []]));
  for (const { stream, event, id, changedAt, error } of rows) {
    const reason = error ?? encodingProblem(SCHEMAS[stream.schema].json, event);
    if (reason !== undefined) {
      skipped.push({ stream, eventId: id, changedAt, reason });
      continue;
    }
    const { customer_id, event_id } = event as { customer_id: string; event_id: string };
    try {
      messages.get(stream)!.push({
        key: customer_id,
        value: encodeEvent(stream.schema, event as never, target.encoding),
        headers: { 'content-type': contentTypeOf(target.encoding), 'event-id': event_id },
      });
    } catch (encodeError) {
      skipped.push({ stream, eventId: id, changedAt, reason: (encodeError as Error).message });
    }
  }
  for (const s of skipped) target.logger.error({ stream: s.stream.name, eventId: s.eventId, reason: s.reason }, 'outbox row cannot be encoded; skipped (see publisher_skipped)');
  await recordSkipped(target.clickhouse, skipped);
  // The topics are independent: their sends go out side by side, each in order.
  await Promise.all(
    [...messages].map(async ([stream, list]) => {
      for (const request of byteBoundedRequests(list, target.maxRequestBytes)) {
        await target.producer.send({ topic: target.topics[stream.topic], acks: -1, messages: request });
      }
    }),
  );
  return new Map([...messages].map(([stream, list]) => [stream, list.length]));
}

function encodingProblem(validator: { safeParse(value: unknown): { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } } }, event: unknown): string | undefined {
  const parsed = validator.safeParse(event);
  if (parsed.success) return undefined;
  return parsed.error!.issues.map((i) => `${i.path.map(String).join('.') || '(event)'}: ${i.message}`).join('; ');
}

/** Consecutive slices whose keys, values and headers stay within the byte limit (a single larger message goes alone). */
export function byteBoundedRequests(messages: readonly Message[], maxBytes: number): Message[][] {
  const requests: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = messageBytes(message);
    if (current.length > 0 && bytes + size > maxBytes) {
      requests.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

function messageBytes(message: Message): number {
  const length = (v: unknown) => (v === null || v === undefined ? 0 : Buffer.byteLength(v as string | Buffer));
  let headers = 0;
  for (const [name, value] of Object.entries(message.headers ?? {})) headers += Buffer.byteLength(name) + length(value);
  // Each record's own framing (lengths, offsets, timestamps) is a few dozen bytes at most.
  return length(message.key) + length(message.value) + headers + 64;
}
