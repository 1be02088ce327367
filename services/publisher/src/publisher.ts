import type { Producer } from 'kafkajs';
import { contentTypeOf, encodeEvent, type Encoding } from '@crm/events';
import { brokerList, connectProducer, createKafka, createProducer, topicNames, type TopicNames } from '@crm/kafka';
import { classifyClickHouseError, createClickHouse, migrateOnStart, type ClickHouseClient } from '@crm/clickhouse';
import { Readiness, sleep, startHealthServer, type Logger } from '@crm/runtime';
import type { PublisherConfig } from './config.js';
import { CUSTOMER_AT_RISK, newestCommit, nextEvents, readCursor, SEGMENT_CHANGES, writeCursor, type Cursor, type OutboxStream } from './outbox.js';

const STREAMS: readonly OutboxStream[] = [SEGMENT_CHANGES, CUSTOMER_AT_RISK];

/**
 * Sends the segment_changes outbox to crm.segment-changes.v1 (segment
 * changes) and crm.customer-at-risk.v1 (risk decisions), keyed by customer,
 * oldest first. At least once: a stream's cursor moves only after Kafka
 * acknowledged, so a crash may resend a batch (same event_ids, same
 * payloads), never lose one.
 */
export async function startPublisher(
  config: PublisherConfig,
  logger: Logger,
  options: { signal?: AbortSignal } = {},
): Promise<{ healthPort: number; handledCommit(): string; stop(): Promise<void> }> {
  const topics = topicNames(config.CRM_TOPIC_NAMESPACE);
  const stopping = new AbortController();
  options.signal?.addEventListener('abort', () => stopping.abort(), { once: true });
  // The health server answers at once; ClickHouse and the broker are waited for, not ready meanwhile.
  const readiness = new Readiness({ clickhouse: 'waiting for ClickHouse', producer: 'waiting for the broker' });
  const health = await startHealthServer({ port: config.PUBLISHER_HEALTH_PORT, readiness });
  logger.info({ healthPort: health.port }, 'health server listening');
  const kafka = createKafka({ brokers: brokerList(config.KAFKA_BROKERS), clientId: 'crm-publisher', logger });
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
  const target = {
    clickhouse,
    producer,
    topics,
    encoding: config.PUBLISHER_ENCODING,
    batchSize: config.PUBLISHER_BATCH_SIZE,
    delayAfterSendMs: config.PUBLISHER_TEST_DELAY_AFTER_SEND_MS,
    logger,
  };

  let handled: string | undefined;
  const loop = (async () => {
    // The outbox is read only when a new commit mark appeared: polling stays one tiny query.
    // Cursors are read once and then kept: this publisher is the only one that moves them.
    // `handled` (outside): the newest commit mark fully published, for tests' positive signal.
    const cursors = new Map<OutboxStream, Cursor>();
    while (!stopping.signal.aborted) {
      try {
        const committed = await newestCommit(clickhouse);
        if (committed !== handled) {
          for (const stream of STREAMS) {
            const cursor = cursors.get(stream) ?? (await readCursor(clickhouse, stream));
            cursors.set(stream, await publishPending(stream, cursor, target));
          }
          handled = committed;
        }
        readiness.progressed('loop');
      } catch (error) {
        // After a failure the cursors are read again: what was recorded is what stands.
        cursors.clear();
        logger.error({ err: classifyClickHouseError(error, 'publish the outbox') }, 'publishing failed; retrying');
      }
      await sleep(config.PUBLISHER_POLL_MS, stopping.signal);
    }
  })();
  logger.info({ healthPort: health.port, topics: STREAMS.map((s) => topics[s.topic]) }, 'publisher running');
  return {
    healthPort: health.port,
    handledCommit: () => handled ?? '',
    stop: async () => {
      stopping.abort();
      readiness.forget('loop');
      await loop;
      await producer.disconnect();
      await clickhouse.close();
      await health.close();
    },
  };
}

/** Everything committed to one stream's outbox since its cursor, batch by batch; returns the new cursor. */
async function publishPending(
  stream: OutboxStream,
  from: Cursor,
  target: {
    clickhouse: ClickHouseClient;
    producer: Producer;
    topics: TopicNames;
    encoding: Encoding;
    batchSize: number;
    delayAfterSendMs: number;
    logger: Logger;
  },
): Promise<Cursor> {
  let cursor = from;
  for (;;) {
    const batch = await nextEvents(target.clickhouse, stream, cursor, target.batchSize);
    if (batch.events.length === 0) return cursor;
    await target.producer.send({
      topic: target.topics[stream.topic],
      acks: -1,
      messages: batch.events.map((event) => ({
        key: event.customer_id,
        value: encodeEvent(stream.schema, event as never, target.encoding),
        headers: { 'content-type': contentTypeOf(target.encoding), 'event-id': event.event_id },
      })),
    });
    if (target.delayAfterSendMs > 0) await sleep(target.delayAfterSendMs);
    await writeCursor(target.clickhouse, stream, batch.cursor);
    cursor = batch.cursor;
    target.logger.info({ stream: stream.name, published: batch.events.length }, 'events published');
    // A short batch was the last one up to the commit mark.
    if (batch.events.length < target.batchSize) return cursor;
  }
}
