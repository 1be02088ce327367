import { z } from 'zod';
import { loadConfig, setting, type Env } from '@crm/runtime';
import { clickhouseSettings } from '@crm/clickhouse';
import { ingestGroupSettings, kafkaSettings } from '@crm/kafka';
import { checkRiskThresholds, scoringParameterSettings } from './parameters.js';

export const scoringConfigSchema = z
  .object({
    ...clickhouseSettings,
    ...kafkaSettings,
    ...ingestGroupSettings,
    ...scoringParameterSettings,
    /** Recency changes every day even without events, so runs are scheduled, not only triggered. */
    SCORING_INTERVAL_SECONDS: setting.positiveInt(60),
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
    LOG_LEVEL: setting.logLevel(),
  })
  .superRefine(checkRiskThresholds);

export type ScoringConfig = Readonly<z.infer<typeof scoringConfigSchema>>;

export function loadScoringConfig(env: Env = process.env): ScoringConfig {
  return loadConfig(scoringConfigSchema, env);
}
