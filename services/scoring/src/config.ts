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
    SCORING_HEALTH_PORT: setting.port(9102),
    LOG_LEVEL: setting.logLevel(),
  })
  .superRefine(checkRiskThresholds);

export type ScoringConfig = Readonly<z.infer<typeof scoringConfigSchema>>;

export function loadScoringConfig(env: Env = process.env): ScoringConfig {
  return loadConfig(scoringConfigSchema, env);
}
