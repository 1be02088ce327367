import { createKafka, FETCH_MAX_WAIT_MS, groupId, superviseConsumer, topicNames } from '@crm/kafka';
import { classifyClickHouseError, type ClickHouseClient } from '@crm/clickhouse';
import { sleep, type Logger, type Readiness } from '@crm/runtime';
import { changedCustomers, RESCORING_STREAMS, type RescoringStream } from './changed-customers.js';
import { createCoalescingQueue } from './coalescing-queue.js';
import { ingestProgress } from './ingest-progress.js';
import type { ScoringConfig } from './config.js';
import type { ScoringParameters } from './parameters.js';
import { realtimeRisk } from './realtime-risk.js';
import { rescoreCustomers } from './run.js';
import { basisCache, newestRunMs } from './runs.js';
import { FULL_RUN_OVERLAP_MS } from './time-pass.js';
import type { WriteLock } from './write-lock.js';

const INGEST_POLL_MS = 50;

export interface IncrementalUpdates {
  stop(): Promise<void>;
}

/**
 * Re-scores customers as their order, ticket and survey events arrive: a
 * consumer group of its own reads the input topics, waits until ingest has
 * committed past each batch (ingest commits only after its rows are written,
 * so they are queryable), re-scores the batch's customers against the newest
 * full run, and only then commits that batch — a crash re-scores again,
 * which changes nothing. Batches do not wait for each other's re-scores.
 * Complaints and detractors' answers are also judged at once on the real-time
 * path (realtime-risk.ts), so their alerts do not wait for a re-score.
 */
export function startIncrementalUpdates(deps: {
  config: ScoringConfig;
  clickhouse: ClickHouseClient;
  lock: WriteLock;
  parameters: ScoringParameters;
  logger: Logger;
  readiness: Readiness;
  signal?: AbortSignal;
}): IncrementalUpdates {
  const { config, clickhouse, lock, parameters, logger } = deps;
  const topics = topicNames(config.CRM_TOPIC_NAMESPACE);
  const kafka = createKafka(config, { clientId: 'crm-scoring', logger });
  const admin = kafka.admin();
  const streamByTopic = new Map<string, RescoringStream>(RESCORING_STREAMS.map((s) => [topics[s], s]));
  const inputTopics = [...streamByTopic.keys()];
  const ingestGroup = groupId(config.CRM_TOPIC_NAMESPACE, config.INGEST_GROUP_ID);
  const basis = basisCache(() => newestRun());
  const ingestWrote = ingestProgress(async () => {
    const answer = await admin.fetchOffsets({ groupId: ingestGroup, topics: inputTopics });
    return new Map(answer.map((t) => [t.topic, new Map(t.partitions.map((p) => [p.partition, BigInt(p.offset)]))]));
  }, INGEST_POLL_MS);
  // A queue of jobs over customers whose ClickHouse errors are classified as `what`.
  const queue = (what: string, job: (customers: string[]) => Promise<void>) =>
    createCoalescingQueue<string>((customers) => job(customers).catch((error: unknown) => Promise.reject(classifyClickHouseError(error, what))));
  const rescoring = queue('incremental re-scoring', async (customers) => {
    const result = await rescoreCustomers(clickhouse, customers, new Date(), parameters, lock, logger, basis);
    logger.info({ customers: result.customers, ms: result.ms }, 'customers re-scored');
  });
  // Complaints and detractors of customers worth keeping alert at once, beside (not behind) the re-scores.
  const alerting = queue('real-time risk', async (customers) => {
    const result = await realtimeRisk(clickhouse, customers, new Date(), parameters, lock, basis, logger);
    logger.debug({ customers: customers.length, ms: result.ms }, 'real-time risk judged');
  });

  // Asked at most once a second: every partition's batch needs it, and it changes once a run.
  let newestRunAt = { value: Promise.resolve(0), asked: 0 };
  const newestRun = () => {
    if (Date.now() - newestRunAt.asked > 1000) newestRunAt = { value: newestRunMs(clickhouse), asked: Date.now() };
    return newestRunAt.value;
  };
  // Per partition: the chain of commits (in offset order) and a generation that a failure bumps.
  let partitions = new Map<string, { commits: Promise<void>; generation: number }>();

  // Joining the group can take a session timeout after a restart: it happens in the background,
  // so the scheduled runs and the health server do not wait for it.
  const consumer = superviseConsumer({
    name: 'incremental consumer',
    readiness: deps.readiness,
    logger,
    ...(deps.signal && { signal: deps.signal }),
    progressDeadlineMs: config.SCORING_PROGRESS_DEADLINE_SECONDS * 1000,
    create: () =>
      kafka.consumer({
        groupId: groupId(config.CRM_TOPIC_NAMESPACE, 'crm-scoring-incremental'),
        sessionTimeout: config.SCORING_SESSION_TIMEOUT_MS,
        heartbeatInterval: Math.floor(config.SCORING_SESSION_TIMEOUT_MS / 10),
        maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
      }),
    start: async (current) => {
      await admin.connect();
      await current.subscribe({ topics: inputTopics, fromBeginning: true });
      // A new consumer starts from the committed offsets: nothing of the old one's chains stands.
      partitions = new Map();
      await current.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        // Every partition at once: their customers are re-scored together (see coalescing-queue).
        partitionsConsumedConcurrently: 64,
        eachBatch: async ({ batch, isRunning, isStale, resolveOffset }) => {
          if (!isRunning() || isStale() || batch.messages.length === 0) return;
          const { topic, partition } = batch;
          const first = batch.firstOffset()!;
          const next = (BigInt(batch.lastOffset()) + 1n).toString();
          const coveredUntil = (await newestRun()) - FULL_RUN_OVERLAP_MS;
          const { customers, alerts } = changedCustomers(streamByTopic.get(topic)!, batch.messages, coveredUntil);
          // Fetching goes on at once; the commit waits for the re-score, so a crash re-scores again.
          resolveOffset(batch.lastOffset());
          const key = `${topic}:${partition}`;
          const state = partitions.get(key) ?? { commits: Promise.resolve(), generation: 0 };
          partitions.set(key, state);
          const generation = state.generation;
          const work = (async () => {
            if (customers.length === 0) return;
            const fetched = Date.now();
            const written = await ingestWrote.reached(topic, partition, BigInt(next), config.SCORING_INCREMENTAL_WAIT_MS);
            if (!written) logger.warn({ topic, partition }, 'ingest has not written the batch in time; re-scoring with what is there');
            const ingested = Date.now();
            await Promise.all([alerts.length > 0 && alerting.submit(alerts), rescoring.submit(customers)]);
            logger.debug({ topic, customers: customers.length, waitedForIngestMs: ingested - fetched, rescoredMs: Date.now() - ingested }, 'batch re-scored');
          })();
          state.commits = Promise.all([state.commits, work])
            .then(async () => {
              if (state.generation === generation) await current.commitOffsets([{ topic, partition, offset: next }]);
            })
            .catch((error: unknown) => {
              if (state.generation !== generation) return;
              // Nothing after the failed batch may be committed; read it again from where it started.
              state.generation++;
              state.commits = Promise.resolve();
              logger.error({ err: error, topic, partition }, 'incremental re-scoring failed; reading the batch again');
              try {
                current.seek({ topic, partition, offset: first });
              } catch (seekError) {
                // Stopping or rebalancing: whoever owns the partition next starts from its committed offset.
                logger.warn({ err: seekError, topic, partition }, 'could not seek back; the committed offset stands');
              }
            });
        },
      });
      logger.info({ topics: inputTopics }, 'incremental updates running');
    },
  });
  return {
    stop: async () => {
      await consumer.current()?.stop().catch(() => undefined);
      // Let re-scores in flight finish and commit, within reason; what does not is re-read next time.
      await Promise.race([Promise.all([...partitions.values()].map((p) => p.commits)), sleep(10_000)]);
      ingestWrote.stop();
      await consumer.stop();
      await admin.disconnect().catch(() => undefined);
    },
  };
}
