import { z } from 'zod';
import { loadConfig, setting, type Env } from '@crm/runtime';
import { clickhouseSettings } from '@crm/clickhouse';
import { scoringParameterSettings } from './parameters.js';

export const scoringConfigSchema = z.object({
  ...clickhouseSettings,
  ...scoringParameterSettings,
  /** Recency changes every day even without events, so runs are scheduled, not only triggered. */
  SCORING_INTERVAL_SECONDS: setting.positiveInt(60),
  SCORING_HEALTH_PORT: setting.port(9102),
  LOG_LEVEL: setting.logLevel(),
});

export type ScoringConfig = Readonly<z.infer<typeof scoringConfigSchema>>;

export function loadScoringConfig(env: Env = process.env): ScoringConfig {
  return loadConfig(scoringConfigSchema, env);
}
