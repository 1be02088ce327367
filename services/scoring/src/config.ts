import { z } from 'zod';
import { loadConfig, setting, type Env, type Logger } from '@crm/runtime';
import { clickhouseSettings } from '@crm/clickhouse';
import { ingestGroupSettings, kafkaSettings } from '@crm/kafka';
import { checkRiskThresholds, duration, scoringParameterSettings } from './parameters.js';
import type { WriteLeaseOptions } from './write-lock.js';

export const scoringConfigSchema = z
  .object({
    ...clickhouseSettings,
    ...kafkaSettings,
    ...ingestGroupSettings,
    ...scoringParameterSettings,
    /**
     * How often the schedule looks at what time changed (time-pass.ts): customers whose purchase
     * left the window, whose future-dated events became due, or who clicked, are re-scored.
     */
    SCORING_INTERVAL_SECONDS: setting.positiveInt(60),
    /**
     * A full run (every customer, fresh cut points, the refit check) at least this often, and
     * always at the first tick of a new UTC day (every buyer's T moves); 0: at every tick.
     */
    SCORING_FULL_RUN_INTERVAL_SECONDS: duration('1d'),
    /** Re-score a customer as soon as their order, ticket or survey events are in ClickHouse. */
    SCORING_INCREMENTAL: setting.boolean(true),
    /**
     * How long an incremental update waits for ingest to make the batch's events queryable
     * before re-scoring with what is there (an event ingest dead-lettered never arrives).
     */
    SCORING_INCREMENTAL_WAIT_MS: setting.positiveInt(30_000),
    /** How soon a dead incremental consumer's partitions move to a live one (the broker's minimum is 6000). */
    SCORING_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).default(30_000),
    /**
     * /readyz says not ready when no scheduled run succeeded for this long, or the incremental
     * consumer has not fetched for this long: more than the interval plus the longest run.
     */
    SCORING_PROGRESS_DEADLINE_SECONDS: setting.positiveInt(900),
    /** At start, intermediate tables of runs older than this are dropped (an interrupted run leaves them). */
    SCORING_STALE_TABLE_MINUTES: z.coerce.number().int().min(0).default(60),
    SCORING_HEALTH_PORT: setting.port(9102),
    /**
     * The write lease (docs/SCORING.md): how long a holder that stopped renewing blocks other writers.
     * Long, because on a loaded machine a renewal can wait behind the run's own largest write (tens
     * of seconds at 1 M customers), and a lease that expires meanwhile fails the whole run.
     */
    SCORING_LEASE_TTL_MS: setting.positiveInt(120_000),
    /** A busy holder releases the lease between writes after this long, so `crm score` and other instances get a turn. */
    SCORING_LEASE_MAX_HOLD_MS: setting.positiveInt(5_000),
    /** The service keeps the lease this long after its last write, so back-to-back incremental updates claim it once. */
    SCORING_LEASE_LINGER_MS: z.coerce.number().int().min(0).default(500),
    /** Fault injection for tests only: wait this long after writing the outbox rows, before committing them. */
    SCORING_TEST_DELAY_BEFORE_COMMIT_MS: z.coerce.number().int().min(0).default(0),
    LOG_LEVEL: setting.logLevel(),
  })
  .superRefine(checkRiskThresholds);

export type ScoringConfig = Readonly<z.infer<typeof scoringConfigSchema>>;

/** The write lease as this configuration sets it up (the service and the CLI alike). */
export function writeLeaseOptions(config: ScoringConfig, logger?: Logger): WriteLeaseOptions {
  return {
    ttlMs: config.SCORING_LEASE_TTL_MS,
    maxHoldMs: config.SCORING_LEASE_MAX_HOLD_MS,
    lingerMs: config.SCORING_LEASE_LINGER_MS,
    delayBeforeCommitMs: config.SCORING_TEST_DELAY_BEFORE_COMMIT_MS,
    ...(logger && { logger }),
  };
}

export function loadScoringConfig(env: Env = process.env): ScoringConfig {
  return loadConfig(scoringConfigSchema, env);
}
