import { Readiness, sleep, startHealthServer, waitForDependency, type Logger } from '@crm/runtime';
import { classifyClickHouseError, createClickHouse, migrateOnStart, type ClickHouseClient } from '@crm/clickhouse';
import { createKafka, topicNames } from '@crm/kafka';
import { loadScoringConfig, writeLeaseOptions, type ScoringConfig } from './config.js';
import { DEFAULT_SCORING_PARAMETERS, scoringParameters, type ScoringParameters } from './parameters.js';
import { startIncrementalUpdates } from './incremental.js';
import { rescoreCustomers, scoreCustomers, type ScoringRun } from './run.js';
import { dueCustomers, scheduledWork } from './time-pass.js';
import { dropStaleRunTables } from './run-context.js';
import { createWriteLease, type WriteLock } from './write-lock.js';
import { createCommitNotices } from './commit-notices.js';

/**
 * One scoring run as of `asOf` (default: now). Used by the schedule and by
 * `crm score`. Without `lock` it takes the write lease for this run with the
 * default settings (waiting while another writer holds it) and gives it back.
 */
export async function runScoring(
  clickhouse: ClickHouseClient,
  asOf: Date = new Date(),
  parameters: ScoringParameters = DEFAULT_SCORING_PARAMETERS,
  logger?: Logger,
  lock?: WriteLock,
): Promise<ScoringRun> {
  const lease = lock ?? createWriteLease(clickhouse, writeLeaseOptions(loadScoringConfig({}), logger));
  try {
    return await scoreCustomers(clickhouse, asOf, parameters, logger, lease);
  } catch (error) {
    throw classifyClickHouseError(error, `scoring run as of ${asOf.toISOString()}`);
  } finally {
    if (!lock) await lease.close();
  }
}

/**
 * The scoring service: the health server answers at once; ClickHouse is waited for (not ready
 * meanwhile), incremental updates join their group in the background, and the schedule runs.
 * Ready means progress: a scheduled run succeeded within the deadline and the incremental
 * consumer runs.
 */
export async function startScoring(config: ScoringConfig, logger: Logger, options: { signal?: AbortSignal } = {}): Promise<{ stop(): Promise<void> }> {
  const stopping = new AbortController();
  options.signal?.addEventListener('abort', () => stopping.abort(), { once: true });
  const readiness = new Readiness({ clickhouse: 'waiting for ClickHouse' });
  const health = await startHealthServer({ port: config.SCORING_HEALTH_PORT, readiness });
  logger.info({ healthPort: health.port }, 'health server listening');
  const clickhouse = createClickHouse(config);
  try {
    await migrateOnStart(config, logger, stopping.signal);
    await waitForDependency(
      'ClickHouse (stale run tables)',
      () => dropStaleRunTables(clickhouse, config.SCORING_STALE_TABLE_MINUTES, logger),
      { logger, signal: stopping.signal, classify: (e) => classifyClickHouseError(e, 'drop stale run tables') },
    );
  } catch (error) {
    await clickhouse.close();
    await health.close();
    throw error;
  }
  readiness.ready('clickhouse');
  const parameters = scoringParameters(config);
  const notices = createCommitNotices(createKafka(config, { clientId: 'crm-scoring', logger }), topicNames(config.CRM_TOPIC_NAMESPACE).outboxCommits, logger);
  const lock = createWriteLease(clickhouse, { ...writeLeaseOptions(config, logger), onCommit: (changedAt) => notices.notify(changedAt) });
  const incremental = config.SCORING_INCREMENTAL
    ? startIncrementalUpdates({ config, clickhouse, lock, parameters, logger, readiness, signal: stopping.signal })
    : undefined;
  readiness.expectProgress('schedule', config.SCORING_PROGRESS_DEADLINE_SECONDS * 1000, 'a scoring run');
  logger.info({ healthPort: health.port, intervalSeconds: config.SCORING_INTERVAL_SECONDS }, 'scoring running');

  const loop = (async () => {
    // This process's last full run that updates can score against (0: none, the last one failed,
    // or it had no basis: the next tick runs in full; the first always does) and where the last
    // pass over time ended.
    let fullRunAt = 0;
    let passedUntil = new Date(0);
    while (!stopping.signal.aborted) {
      try {
        const now = new Date();
        let full = scheduledWork(now, fullRunAt, config.SCORING_FULL_RUN_INTERVAL_SECONDS) === 'full';
        if (!full) {
          const due = await dueCustomers(clickhouse, { since: passedUntil, until: now }, parameters.windowDays, config.SCORING_INCREMENTAL);
          const update = due.length > 0 ? await rescoreCustomers(clickhouse, due, now, parameters, lock, logger) : undefined;
          // No basis to score against (no converged fit yet): only a full run scores them.
          full = update !== undefined && update.basisAsOf === undefined;
          if (!full) {
            passedUntil = now;
            readiness.progressed('schedule');
            if (update) logger.info({ asOf: now.toISOString(), ms: update.ms, customers: due.length }, 'customers re-scored for the passage of time');
          }
        }
        if (full) {
          fullRunAt = 0;
          const run = await runScoring(clickhouse, now, parameters, logger, lock);
          // A run without buyers or a converged fit is no basis for updates: the next tick runs in full again.
          fullRunAt = run.buyers > 0 && run.fitsAsOf.mbgnbd ? run.asOf.getTime() : 0;
          passedUntil = run.asOf;
          readiness.progressed('schedule');
          logger.info({ asOf: run.asOf.toISOString(), ms: run.ms, customers: run.customers, buyers: run.buyers }, 'scoring run done');
        }
      } catch (error) {
        // A failed run is retried at the next tick; profiles keep their previous version meanwhile.
        logger.error({ err: error }, 'scoring run failed');
      }
      await sleep(config.SCORING_INTERVAL_SECONDS * 1000, stopping.signal);
    }
  })();

  return {
    stop: async () => {
      stopping.abort();
      readiness.forget('schedule');
      await incremental?.stop();
      await loop;
      await lock.close();
      await notices.close();
      await clickhouse.close();
      await health.close();
    },
  };
}

