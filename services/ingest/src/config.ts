import { z } from 'zod';
import { loadConfig, setting, type Env } from '@crm/runtime';
import { DEFAULT_MAX_SEND_BYTES, ingestGroupSettings, kafkaSettings } from '@crm/kafka';
import { clickhouseSettings } from '@crm/clickhouse';
import { fxRatesSetting } from './fx-rates.js';

/** The default of INGEST_PARTITIONS_CONCURRENTLY (the bench's bare consumer uses it too). */
export const DEFAULT_PARTITIONS_CONCURRENTLY = 32;

export const ingestConfigSchema = z.object({
  ...kafkaSettings,
  ...clickhouseSettings,
  ...ingestGroupSettings,
  /** How soon a crashed instance's partitions move to a live one (the broker's minimum is 6000). */
  INGEST_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).default(30_000),
  /** The currency every value is reported in (ISO 4217). */
  CRM_REPORTING_CURRENCY: setting.currency('USD'),
  /** JSON object: units of the reporting currency per unit of each other currency, e.g. {"EUR":1.08}. */
  CRM_FX_RATES: fxRatesSetting,
  /** Events whose occurred_at is further in the future than this are rejected (producer clock skew). */
  INGEST_MAX_FUTURE_SKEW_SECONDS: setting.positiveInt(300),
  /** Largest message accepted, counting its key, value and headers; larger ones are dead-lettered as message_too_large. */
  INGEST_MAX_MESSAGE_BYTES: setting.positiveInt(1_048_576),
  /**
   * Largest dead-letter send in bytes; the dead-letter topic's max.message.bytes, read at start,
   * lowers it further. A dead letter larger than it keeps a prefix of its value (dlq.truncated).
   */
  INGEST_DEAD_LETTER_MAX_SEND_BYTES: setting.positiveInt(DEFAULT_MAX_SEND_BYTES),
  /**
   * Partitions handled at once; their writes overlap (one group insert per table), each still
   * committed only after its own write. Above the input topics' partition count (4 × 6 by
   * default), so every partition of a fetch joins the same inserts: at 4, a fetch's partitions
   * waited for each other in fours, with four times the inserts (docs/BENCHMARKS.md).
   */
  INGEST_PARTITIONS_CONCURRENTLY: setting.positiveInt(DEFAULT_PARTITIONS_CONCURRENTLY),
  /**
   * Worker threads that decode, validate and encode batches while the main thread fetches, writes
   * and commits; 0 does it all on the main thread (a machine with one core gains nothing from one).
   */
  INGEST_DECODE_WORKERS: z.coerce.number().int().min(0).max(16).default(1),
  /**
   * Batches of one partition fetched, decoded and written at once, committed in order: more keeps
   * the worker, the inserts and the fetches overlapping; each is up to 2 MiB of messages held in memory.
   */
  INGEST_BATCHES_IN_FLIGHT: setting.positiveInt(4),
  /** /readyz says not ready when the consumer has not fetched for this long (e.g. a write stuck on ClickHouse). */
  INGEST_PROGRESS_DEADLINE_SECONDS: setting.positiveInt(60),
  /** How often the suppression list of erased ids is re-read: an erasure takes effect in ingest within this time. */
  INGEST_SUPPRESSION_REFRESH_SECONDS: setting.positiveInt(5),
  /** Act on erasure requests from crm.erasure-requests.v1 (docs/PRIVACY.md); off: only `crm erase customer` erases. */
  INGEST_ERASURE_REQUESTS: setting.boolean(false),
  /** Port of /healthz, /readyz and /metrics; 0 picks a free one. */
  INGEST_HEALTH_PORT: setting.port(9101),
  /** Fault injection for tests only: wait this long between decoding a batch and writing it. */
  INGEST_TEST_DELAY_BEFORE_WRITE_MS: z.coerce.number().int().min(0).default(0),
  LOG_LEVEL: setting.logLevel(),
});

export type IngestConfig = Readonly<z.infer<typeof ingestConfigSchema>>;

export function loadIngestConfig(env: Env = process.env): IngestConfig {
  return loadConfig(ingestConfigSchema, env);
}
