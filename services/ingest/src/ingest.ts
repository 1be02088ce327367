import type { Consumer, Producer } from 'kafkajs';
import { retry, sleep, startHealthServer, type HealthServer, type Logger } from '@crm/runtime';
import { brokerList, createKafka, createProducer, groupId, topicMaxMessageBytes, topicNames } from '@crm/kafka';
import { classifyClickHouseError, createClickHouse, migrateOnStart, type ClickHouseClient } from '@crm/clickhouse';
import type { IngestConfig } from './config.js';
import { createIngestMetrics } from './metrics.js';
import { processBatch } from './process-batch.js';
import type { Row } from './rows.js';
import { STREAMS, type AnyStream } from './streams.js';

export interface IngestService {
  readonly healthPort: number;
  stop(): Promise<void>;
}

/** Wires Kafka, ClickHouse and the batch logic; the decisions live in process-batch and decode-order. */
export async function startIngest(
  config: IngestConfig,
  logger: Logger,
  onFatal: (error: Error) => void = (error) => logger.fatal({ err: error }, 'consumer crashed and will not restart'),
): Promise<IngestService> {
  const topics = topicNames(config.CRM_TOPIC_NAMESPACE);
  const kafka = createKafka({ brokers: brokerList(config.KAFKA_BROKERS), clientId: 'crm-ingest', logger });

  await migrateOnStart(config, logger);
  const clickhouse = createClickHouse(config);

  let ready = false;
  const health: HealthServer = await startHealthServer({ port: config.INGEST_HEALTH_PORT, isReady: () => ready });
  const metrics = createIngestMetrics(health.registry);

  const producer: Producer = createProducer(kafka);
  const consumer: Consumer = kafka.consumer({
    groupId: groupId(config.CRM_TOPIC_NAMESPACE, config.INGEST_GROUP_ID),
    sessionTimeout: config.INGEST_SESSION_TIMEOUT_MS,
    heartbeatInterval: Math.floor(config.INGEST_SESSION_TIMEOUT_MS / 10),
  });
  // A consumer that crashed for good must not sit idle while looking alive.
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) {
      ready = false;
      onFatal(payload.error);
    }
  });
  await producer.connect();
  await consumer.connect();
  // Dead letters are sent in requests the broker takes: under the topic's own limit when it has one.
  const topicLimit = await topicMaxMessageBytes(kafka, topics.deadLetter);
  const maxDeadLetterSendBytes = Math.min(config.INGEST_DEAD_LETTER_MAX_SEND_BYTES, topicLimit === undefined ? Infinity : Math.floor(topicLimit * 0.95));
  const streamByTopic = new Map<string, AnyStream>(STREAMS.map((stream) => [topics[stream.topic], stream]));
  await consumer.subscribe({ topics: [...streamByTopic.keys()], fromBeginning: true });

  const stopping = new AbortController();
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: config.INGEST_PARTITIONS_CONCURRENTLY,
    eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
      if (!isRunning() || isStale() || batch.messages.length === 0) return;
      metrics.batchSize.observe({ topic: batch.topic }, batch.messages.length);
      const stream = streamByTopic.get(batch.topic)!;
      const result = await processBatch(
        stream,
        batch,
        {
          now: Date.now(),
          maxFutureSkewMs: config.INGEST_MAX_FUTURE_SKEW_SECONDS * 1000,
          maxMessageBytes: config.INGEST_MAX_MESSAGE_BYTES,
          reportingCurrency: config.CRM_REPORTING_CURRENCY,
          fxRates: config.CRM_FX_RATES,
          maxDeadLetterSendBytes,
        },
        {
          beforeWrite: async () => {
            logger.info({ topic: batch.topic, partition: batch.partition, size: batch.messages.length }, 'batch decoded');
            if (config.INGEST_TEST_DELAY_BEFORE_WRITE_MS > 0) await sleep(config.INGEST_TEST_DELAY_BEFORE_WRITE_MS);
          },
          writeRows: (table, rows) => writeRows(clickhouse, table, rows, logger, heartbeat, stopping.signal, metrics),
          sendDeadLetters: async (messages) => {
            await producer.send({ topic: topics.deadLetter, acks: -1, messages });
          },
          commit: async (offset) => {
            await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset }]);
            // Moves the fetch position too; without it the consumer would fetch the same batch again.
            resolveOffset(batch.lastOffset());
          },
        },
      );
      metrics.events.inc({ topic: batch.topic, outcome: 'accepted', reason: '' }, result.accepted);
      for (const { code } of result.deadLettered) metrics.events.inc({ topic: batch.topic, outcome: 'dead_lettered', reason: code });
      const refused = result.deadLettered.filter((d) => d.code === 'storage_rejected').length;
      if (refused > 0) logger.warn({ topic: batch.topic, partition: batch.partition, refused }, 'ClickHouse refused rows that passed validation; dead-lettered as storage_rejected');
      metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(batch.offsetLag()));
      logger.info(
        { topic: batch.topic, partition: batch.partition, accepted: result.accepted, deadLettered: result.deadLettered.length },
        'batch committed',
      );
      await heartbeat();
    },
  });
  ready = true;
  logger.info({ healthPort: health.port, topics: [...streamByTopic.keys()] }, 'ingest running');

  return {
    healthPort: health.port,
    stop: async () => {
      ready = false;
      stopping.abort();
      await consumer.disconnect();
      await producer.disconnect();
      await clickhouse.close();
      await health.close();
    },
  };
}

async function writeRows(
  clickhouse: ClickHouseClient,
  table: string,
  rows: Row[],
  logger: Logger,
  heartbeat: () => Promise<void>,
  signal: AbortSignal,
  metrics: ReturnType<typeof createIngestMetrics>,
): Promise<void> {
  const timer = metrics.writeSeconds.startTimer({ table });
  // A write that still fails is thrown with nothing committed: the data stays safe in Kafka,
  // and the consumer's crash handling restarts or stops the process.
  await retry(
    async () => {
      try {
        await clickhouse.insert({ table, values: rows, format: 'JSONEachRow' });
      } catch (error) {
        throw classifyClickHouseError(error, `insert ${rows.length} rows into ${table}`);
      }
    },
    {
      retries: 12,
      initialDelayMs: 200,
      maxDelayMs: 10_000,
      signal,
      onRetry: (error, attempt, delayMs) => {
        logger.warn({ err: error, attempt, delayMs }, 'ClickHouse write failed; retrying');
        void heartbeat().catch(() => undefined);
      },
    },
  );
  timer();
}
