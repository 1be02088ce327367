import { z } from 'zod';
import { loadConfig, setting, type Env } from '@crm/runtime';
import { kafkaSettings } from '@crm/kafka';
import { clickhouseSettings } from '@crm/clickhouse';

export const publisherConfigSchema = z.object({
  ...kafkaSettings,
  ...clickhouseSettings,
  /** Encoding of published events: json, or avro (single-object encoding). */
  PUBLISHER_ENCODING: z.enum(['json', 'avro']).default('json'),
  /**
   * How often the outbox is polled. Scoring's commit notices wake the publisher at once; the poll
   * bounds the wait when none comes (`crm score` from the CLI sends none, or the broker lost it).
   */
  PUBLISHER_POLL_MS: setting.positiveInt(200),
  PUBLISHER_BATCH_SIZE: setting.positiveInt(5000),
  /** Upper bound of one produce request's messages, in bytes; below the broker's message.max.bytes (1 MiB by default). */
  PUBLISHER_MAX_REQUEST_BYTES: setting.positiveInt(512 * 1024),
  /**
   * How long after its server-side commit time a commit mark may still become visible; marks
   * are looked for this far back from the newest one published (docs/SCORING.md).
   */
  PUBLISHER_LATE_MARK_GRACE_MS: setting.positiveInt(600_000),
  /** /readyz says not ready when no poll of the outbox completed for this long (e.g. a send stuck on a broker that is gone). */
  PUBLISHER_PROGRESS_DEADLINE_SECONDS: setting.positiveInt(60),
  PUBLISHER_HEALTH_PORT: setting.port(9103),
  LOG_LEVEL: setting.logLevel(),
  /** Fault injection for tests only: wait this long between Kafka's acknowledgement and recording the cursor. */
  PUBLISHER_TEST_DELAY_AFTER_SEND_MS: z.coerce.number().int().min(0).default(0),
});

export type PublisherConfig = Readonly<z.infer<typeof publisherConfigSchema>>;

export function loadPublisherConfig(env: Env = process.env): PublisherConfig {
  return loadConfig(publisherConfigSchema, env);
}
