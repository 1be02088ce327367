import { z } from 'zod';
import { loadConfig, setting, type Env } from '@crm/runtime';
import { clickhouseSettings } from '@crm/clickhouse';
import { ingestGroupSettings, kafkaSettings } from '@crm/kafka/settings';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export const isLoopback = (host: string): boolean => LOOPBACK.has(host) || host.startsWith('127.');

export const webConfigSchema = z
  .object({
    ...clickhouseSettings,
    // For the Pipeline page's consumer lag only: the dashboard works without a broker.
    ...kafkaSettings,
    ...ingestGroupSettings,
    /** The dashboard's and API's port. */
    CRM_WEB_PORT: setting.port(8080),
    /** Loopback by default: anything wider needs CRM_WEB_TOKEN. */
    CRM_WEB_HOST: z.string().min(1).default('127.0.0.1'),
    /** The access token (`Authorization: Bearer …` or `?token=…`); optional on loopback, required beyond it. */
    CRM_WEB_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
    LOG_LEVEL: setting.logLevel(),
  })
  .refine((c) => c.CRM_WEB_TOKEN !== undefined || isLoopback(c.CRM_WEB_HOST), {
    path: ['CRM_WEB_TOKEN'],
    message: 'required when CRM_WEB_HOST is not a loopback address (nothing listens beyond loopback without credentials)',
  });

export type WebConfig = Readonly<z.infer<typeof webConfigSchema>>;

export function loadWebConfig(env: Env = process.env): WebConfig {
  return loadConfig(webConfigSchema, env);
}
