import { sleep, startHealthServer, type Logger } from '@crm/runtime';
import { classifyClickHouseError, createClickHouse, migrateOnStart, type ClickHouseClient } from '@crm/clickhouse';
import { loadScoringConfig, writeLeaseOptions, type ScoringConfig } from './config.js';
import { DEFAULT_SCORING_PARAMETERS, scoringParameters, type ScoringParameters } from './parameters.js';
import { startIncrementalUpdates } from './incremental.js';
import { scoreCustomers, type ScoringRun } from './run.js';
import { createWriteLease, type WriteLock } from './write-lock.js';

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

export async function startScoring(config: ScoringConfig, logger: Logger): Promise<{ stop(): Promise<void> }> {
  await migrateOnStart(config, logger);
  const clickhouse = createClickHouse(config);
  const parameters = scoringParameters(config);
  const lock = createWriteLease(clickhouse, writeLeaseOptions(config, logger));
  const incremental = config.SCORING_INCREMENTAL
    ? await startIncrementalUpdates({ config, clickhouse, lock, parameters, logger })
    : undefined;
  const stopping = new AbortController();
  const health = await startHealthServer({ port: config.SCORING_HEALTH_PORT, isReady: () => !stopping.signal.aborted });
  logger.info({ healthPort: health.port, intervalSeconds: config.SCORING_INTERVAL_SECONDS }, 'scoring running');

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        const run = await runScoring(clickhouse, new Date(), parameters, logger, lock);
        logger.info({ asOf: run.asOf.toISOString(), ms: run.ms, customers: run.customers, buyers: run.buyers }, 'scoring run done');
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
      await incremental?.stop();
      await loop;
      await lock.close();
      await clickhouse.close();
      await health.close();
    },
  };
}

