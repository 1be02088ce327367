import type { Batch, Producer } from 'kafkajs';
import { Readiness, retry, sleep, startHealthServer, type HealthServer, type Logger } from '@crm/runtime';
import {
  connectProducer,
  createKafka,
  createProducer,
  FETCH_MAX_WAIT_MS,
  groupId,
  isGroupMembershipChange,
  partitionLanes,
  superviseConsumer,
  topicMaxMessageBytes,
  topicNames,
  type SupervisedConsumer,
} from '@crm/kafka';
import { classifyClickHouseError, createClickHouse, migrateOnStart, suppressedIds, type ClickHouseClient } from '@crm/clickhouse';
import type { IngestConfig } from './config.js';
import { createIngestMetrics } from './metrics.js';
import { processBatch } from './process-batch.js';
import { joinRows, type EncodedRows } from './rows.js';
import { groupCommit } from './group-commit.js';
import { decodeWorkers, type DecodeWorkers } from './decode-workers.js';
import { insertEncodedRows } from './insert-rows.js';
import { STREAMS, type AnyStream } from './streams.js';
import { suppressionCache } from './suppression.js';
import { eraseCustomer } from './erase-customer.js';
import { handleErasureRequests } from './erasure-requests.js';

const FETCH_BYTES_PER_PARTITION = 2 * 1024 * 1024;

export interface IngestService {
  readonly healthPort: number;
  stop(): Promise<void>;
}

/**
 * Wires Kafka, ClickHouse and the batch logic; the decisions live in process-batch and decode-order.
 * The health server answers at once; ClickHouse and the broker are waited for (not ready
 * meanwhile), and a consumer that crashes is replaced, so a dependency that is down never ends
 * the process. Resolves once the consumer runs (or `signal` stopped the start-up).
 */
export async function startIngest(config: IngestConfig, logger: Logger, options: { signal?: AbortSignal; onCrash?: (error: Error) => void } = {}): Promise<IngestService> {
  const topics = topicNames(config.CRM_TOPIC_NAMESPACE);
  const kafka = createKafka(config, { clientId: 'crm-ingest', logger });
  const stopping = new AbortController();
  options.signal?.addEventListener('abort', () => stopping.abort(), { once: true });
  const readiness = new Readiness({ clickhouse: 'waiting for ClickHouse', producer: 'waiting for the broker' });
  const health: HealthServer = await startHealthServer({ port: config.INGEST_HEALTH_PORT, readiness });
  logger.info({ healthPort: health.port }, 'health server listening');
  const metrics = createIngestMetrics(health.registry);
  const clickhouse = createClickHouse(config);
  const producer: Producer = createProducer(kafka);
  const suppression = suppressionCache(
    async () => {
      try {
        return await suppressedIds(clickhouse);
      } catch (error) {
        throw classifyClickHouseError(error, 'read the suppression list');
      }
    },
    { refreshMs: config.INGEST_SUPPRESSION_REFRESH_SECONDS * 1000, logger, signal: stopping.signal },
  );
  // Started first: the workers load their modules while ClickHouse and the broker are waited for.
  const decoders: DecodeWorkers | undefined = config.INGEST_DECODE_WORKERS > 0 ? decodeWorkers(config.INGEST_DECODE_WORKERS, logger) : undefined;
  let consumer: SupervisedConsumer | undefined;
  let requests: SupervisedConsumer | undefined;
  const lanes = partitionLanes({
    depth: config.INGEST_BATCHES_IN_FLIGHT,
    seek: (topic, partition, offset) => consumer?.current()?.seek({ topic, partition, offset }),
    isHandover: isGroupMembershipChange,
    onFailure: (error, { topic, partition }, handover) => {
      // A rebalance moved the partition while its batch was written: the rows are stored, the
      // next owner reads them again from the committed offset and de-duplication absorbs them.
      if (handover) logger.info({ topic, partition }, 'partition reassigned before its batch committed; its next owner reads it again');
      else logger.error({ err: error, topic, partition }, 'batch failed; reading it again');
    },
  });
  const stop = async () => {
    stopping.abort();
    suppression.stop();
    // The two consumers stop side by side: each may wait out a fetch in flight.
    await Promise.all([
      requests?.stop(),
      // Batches being written commit before the consumer goes (none starts once stopping).
      lanes.drain().then(() => consumer?.stop()),
    ]);
    await producer.disconnect().catch(() => undefined);
    await decoders?.close();
    await clickhouse.close();
    await health.close();
  };

  try {
    // No event is stored before the suppression list is known.
    await readiness.until('clickhouse', 'waiting for ClickHouse', async () => {
      await migrateOnStart(config, logger, stopping.signal);
      await suppression.start();
    });
    await readiness.until('producer', 'waiting for the broker', () => connectProducer(producer, logger, stopping.signal));
  } catch (error) {
    await stop();
    throw error;
  }

  // Dead letters are sent in requests the broker takes: under the topic's own limit when it has one.
  const topicLimit = await topicMaxMessageBytes(kafka, topics.deadLetter);
  const maxDeadLetterSendBytes = Math.min(config.INGEST_DEAD_LETTER_MAX_SEND_BYTES, topicLimit === undefined ? Infinity : Math.floor(topicLimit * 0.95));
  const streamByTopic = new Map<string, AnyStream>(STREAMS.map((stream) => [topics[stream.topic], stream]));
  const heartbeatIntervalMs = Math.floor(config.INGEST_SESSION_TIMEOUT_MS / 10);
  const write = groupCommit<EncodedRows>((table, rows) => writeRows(clickhouse, table, rows, logger, stopping.signal, metrics), joinRows);
  consumer = superviseConsumer({
    name: 'consumer',
    readiness,
    logger,
    signal: stopping.signal,
    ...(options.onCrash && { onCrash: options.onCrash }),
    progressDeadlineMs: config.INGEST_PROGRESS_DEADLINE_SECONDS * 1000,
    create: () =>
      kafka.consumer({
        groupId: groupId(config.CRM_TOPIC_NAMESPACE, config.INGEST_GROUP_ID),
        sessionTimeout: config.INGEST_SESSION_TIMEOUT_MS,
        // kafkajs waits 60 s by default for members to rejoin: a replaced consumer would idle that long.
        rebalanceTimeout: 2 * config.INGEST_SESSION_TIMEOUT_MS,
        heartbeatInterval: heartbeatIntervalMs,
        maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
        // Twice kafkajs's default per partition, for the six of a default topic: each fetch brings
        // twice the messages for one round trip and one wait for room (docs/BENCHMARKS.md).
        maxBytesPerPartition: FETCH_BYTES_PER_PARTITION,
        maxBytes: 6 * FETCH_BYTES_PER_PARTITION,
      }),
    start: async (current) => {
      current.on(current.events.GROUP_JOIN, () => lanes.reset());
      const ingestBatch = async (batch: Batch, heartbeat: () => Promise<void>, turn: () => Promise<boolean>): Promise<void> => {
        metrics.batchSize.observe({ topic: batch.topic }, batch.messages.length);
        const stream = streamByTopic.get(batch.topic)!;
        // A write may wait out a ClickHouse outage: the group must not drop us meanwhile.
        const beating = setInterval(() => void heartbeat().catch(() => undefined), heartbeatIntervalMs);
        let result: Awaited<ReturnType<typeof processBatch>>;
        try {
          result = await processBatch(
            stream,
            batch,
            {
              now: Date.now(),
              maxFutureSkewMs: config.INGEST_MAX_FUTURE_SKEW_SECONDS * 1000,
              maxMessageBytes: config.INGEST_MAX_MESSAGE_BYTES,
              reportingCurrency: config.CRM_REPORTING_CURRENCY,
              fxRates: config.CRM_FX_RATES,
              maxDeadLetterSendBytes,
              suppression: suppression.current(),
            },
            {
              ...(decoders && { decode: decoders.decode }),
              beforeWrite: async () => {
                logger.info({ topic: batch.topic, partition: batch.partition, size: batch.messages.length }, 'batch decoded');
                if (config.INGEST_TEST_DELAY_BEFORE_WRITE_MS > 0) await sleep(config.INGEST_TEST_DELAY_BEFORE_WRITE_MS);
              },
              writeRows: write,
              sendDeadLetters: async (messages) => {
                await producer.send({ topic: topics.deadLetter, acks: -1, messages });
              },
              commit: async (offset) => {
                // After every earlier batch of the partition: a commit covers only stored data.
                if (!(await turn())) throw new Error('an earlier batch of the partition failed; this one is read again');
                await current.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset }]);
              },
            },
          );
        } finally {
          clearInterval(beating);
        }
        metrics.events.inc({ topic: batch.topic, outcome: 'accepted', reason: '' }, result.accepted);
        if (result.suppressed > 0) metrics.events.inc({ topic: batch.topic, outcome: 'suppressed', reason: 'erased' }, result.suppressed);
        for (const { code } of result.deadLettered) metrics.events.inc({ topic: batch.topic, outcome: 'dead_lettered', reason: code });
        const refused = result.deadLettered.filter((d) => d.code === 'storage_rejected').length;
        if (refused > 0) logger.warn({ topic: batch.topic, partition: batch.partition, refused }, 'ClickHouse refused rows that passed validation; dead-lettered as storage_rejected');
        metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(batch.offsetLag()));
        logger.info(
          { topic: batch.topic, partition: batch.partition, accepted: result.accepted, suppressed: result.suppressed, deadLettered: result.deadLettered.length },
          'batch committed',
        );
      };
      await current.subscribe({ topics: [...streamByTopic.keys()], fromBeginning: true });
      await current.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: config.INGEST_PARTITIONS_CONCURRENTLY,
        eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
          if (!isRunning() || isStale() || stopping.signal.aborted || batch.messages.length === 0) return;
          const { started, room } = lanes.admit({ topic: batch.topic, partition: batch.partition, first: batch.firstOffset()! }, (turn) => ingestBatch(batch, heartbeat, turn));
          if (!started) return;
          // The next fetch goes on while this batch is written; its commit still waits for its rows (lanes).
          resolveOffset(batch.lastOffset());
          await room;
          await heartbeat();
        },
      });
    },
  });
  if (config.INGEST_ERASURE_REQUESTS) {
    const settleMs = 2 * config.INGEST_SUPPRESSION_REFRESH_SECONDS * 1000;
    requests = superviseConsumer({
      name: 'erasure-requests',
      readiness,
      logger,
      signal: stopping.signal,
      progressDeadlineMs: config.INGEST_PROGRESS_DEADLINE_SECONDS * 1000,
      create: () => kafka.consumer({ groupId: groupId(config.CRM_TOPIC_NAMESPACE, 'crm-erasure-requests'), sessionTimeout: config.INGEST_SESSION_TIMEOUT_MS, maxWaitTimeInMs: FETCH_MAX_WAIT_MS }),
      start: async (current) => {
        await current.subscribe({ topics: [topics.erasureRequests], fromBeginning: true });
        await current.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, heartbeat, isRunning, resolveOffset }) => {
            if (!isRunning() || batch.messages.length === 0) return;
            const outcome = await handleErasureRequests(batch.messages, async (customerId) => {
              const erasure = await eraseCustomer(clickhouse, customerId, {
                announce: async (message) => {
                  await producer.send({ topic: topics.customerErased, acks: -1, messages: [message] });
                },
                settle: async () => {
                  await suppression.refresh();
                  await heartbeat();
                  await sleep(settleMs, stopping.signal);
                },
              });
              await heartbeat();
              logger.info({ rows: Object.values(erasure.deleted).reduce((a, b) => a + b, 0), ms: erasure.ms }, 'customer erased on request');
            });
            for (const { code, offset } of outcome.rejected) logger.warn({ code, offset }, 'erasure request is not a valid event; skipped');
            await current.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() }]);
            resolveOffset(batch.lastOffset());
          },
        });
      },
    });
  }
  try {
    await consumer.started;
    await requests?.started;
  } catch (error) {
    await stop();
    throw error;
  }
  if (!stopping.signal.aborted) logger.info({ healthPort: health.port, topics: [...streamByTopic.keys()] }, 'ingest running');
  return { healthPort: health.port, stop };
}

async function writeRows(
  clickhouse: ClickHouseClient,
  table: string,
  rows: EncodedRows,
  logger: Logger,
  signal: AbortSignal,
  metrics: ReturnType<typeof createIngestMetrics>,
): Promise<void> {
  const timer = metrics.writeSeconds.startTimer({ table });
  // A write that still fails is thrown with nothing committed: the data stays safe in Kafka,
  // and the partition is read again from the failed batch (partitionLanes).
  await retry(
    async () => {
      try {
        await insertEncodedRows(clickhouse, table, rows);
      } catch (error) {
        throw classifyClickHouseError(error, `insert ${rows.count} rows into ${table}`);
      }
    },
    {
      retries: 12,
      initialDelayMs: 200,
      maxDelayMs: 10_000,
      signal,
      onRetry: (error, attempt, delayMs) => {
        logger.warn({ err: error, attempt, delayMs }, 'ClickHouse write failed; retrying');
      },
    },
  );
  timer();
}
