import { CONTENT_TYPE_AVRO, CONTENT_TYPE_JSON, encodeEvent } from '@crm/events';
import { brokerList, createKafka, createProducer, topicNames } from '@crm/kafka';
import { classifyClickHouseError, createClickHouse, migrateOnStart } from '@crm/clickhouse';
import { sleep, startHealthServer, type Logger } from '@crm/runtime';
import type { PublisherConfig } from './config.js';
import { nextChanges, readCursor, writeCursor } from './outbox.js';

/**
 * Sends the segment_changes outbox to crm.segment-changes.v1, keyed by
 * customer, oldest first. At least once: the cursor moves only after Kafka
 * acknowledged, so a crash may resend a batch (same event_ids), never lose one.
 */
export async function startPublisher(config: PublisherConfig, logger: Logger): Promise<{ healthPort: number; stop(): Promise<void> }> {
  await migrateOnStart(config, logger);
  const topics = topicNames(config.CRM_TOPIC_NAMESPACE);
  const kafka = createKafka({ brokers: brokerList(config.KAFKA_BROKERS), clientId: 'crm-publisher', logger });
  const producer = createProducer(kafka);
  await producer.connect();
  const clickhouse = createClickHouse(config);
  const stopping = new AbortController();
  const health = await startHealthServer({ port: config.PUBLISHER_HEALTH_PORT, isReady: () => !stopping.signal.aborted });
  const contentType = config.PUBLISHER_ENCODING === 'json' ? CONTENT_TYPE_JSON : CONTENT_TYPE_AVRO;

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        let cursor = await readCursor(clickhouse);
        for (;;) {
          const batch = await nextChanges(clickhouse, cursor, config.PUBLISHER_BATCH_SIZE);
          if (batch.events.length === 0) break;
          await producer.send({
            topic: topics.segmentChanges,
            acks: -1,
            messages: batch.events.map((event) => ({
              key: event.customer_id,
              value: encodeEvent('segment-changes', event, config.PUBLISHER_ENCODING),
              headers: { 'content-type': contentType, 'event-id': event.event_id },
            })),
          });
          await writeCursor(clickhouse, batch.cursor);
          cursor = batch.cursor;
          logger.info({ published: batch.events.length }, 'segment changes published');
        }
      } catch (error) {
        logger.error({ err: classifyClickHouseError(error, 'publish segment changes') }, 'publishing failed; retrying');
      }
      await sleep(config.PUBLISHER_POLL_MS, stopping.signal);
    }
  })();
  logger.info({ healthPort: health.port, topic: topics.segmentChanges }, 'publisher running');
  return {
    healthPort: health.port,
    stop: async () => {
      stopping.abort();
      await loop;
      await producer.disconnect();
      await clickhouse.close();
      await health.close();
    },
  };
}
