import { join } from 'node:path';
import { z } from 'zod';
import { crmHome, loadConfig, setting, type Env } from '@crm/runtime';
import { clickhouseSettings } from '@crm/clickhouse';
// The settings alone: `crm sql` reads them without loading the Kafka client.
import { kafkaSettings } from '@crm/kafka/settings';
import { readGeneratedPassword } from './password.js';

/** What `crm` needs to run and reach the local stack. */
export const stackConfigSchema = z.object({
  CRM_HOME: z.string().default('.local'),
  CRM_KAFKA_PORT: setting.port(9092),
  /** The KRaft controller's port; default: the broker port + 1. */
  CRM_KAFKA_CONTROLLER_PORT: setting.port(0),
  CRM_CLICKHOUSE_PORT: setting.port(8123),
  ...kafkaSettings,
  ...clickhouseSettings,
  /** The dashboard's port, host and access token, passed to the web service (services/web/src/config.ts documents them). */
  CRM_WEB_PORT: setting.port(8080),
  CRM_WEB_HOST: z.string().min(1).default('127.0.0.1'),
  CRM_WEB_TOKEN: z.string().optional(),
  /** The reporting currency, as ingest reads it: imported rows without a currency are in it. */
  CRM_REPORTING_CURRENCY: setting.currency('USD'),
});

export type StackConfig = Readonly<z.infer<typeof stackConfigSchema>>;

/** The embedded host's generated password (password.ts) stands in for an unset CLICKHOUSE_PASSWORD; never sent to another server. */
export function loadStackConfig(env: Env = process.env): StackConfig {
  const config = loadConfig(stackConfigSchema, env);
  if (env.CLICKHOUSE_PASSWORD !== undefined || !usesLocalClickHouse(config)) return config;
  const generated = readGeneratedPassword(env);
  return generated === undefined ? config : Object.freeze({ ...config, CLICKHOUSE_PASSWORD: generated });
}

export function stackPaths(env: Env = process.env) {
  const home = crmHome(env);
  return {
    home,
    kafka: join(home, 'kafka'),
    clickhouseData: join(home, 'clickhouse'),
    logs: join(home, 'logs'),
    run: join(home, 'run'),
  };
}

export function controllerPort(config: StackConfig): number {
  return config.CRM_KAFKA_CONTROLLER_PORT === 0 ? config.CRM_KAFKA_PORT + 1 : config.CRM_KAFKA_CONTROLLER_PORT;
}

/** The embedded stack only: a CLICKHOUSE_URL or KAFKA_BROKERS pointing elsewhere means "use that instead". */
export function usesLocalKafka(config: StackConfig): boolean {
  return config.KAFKA_BROKERS === `127.0.0.1:${config.CRM_KAFKA_PORT}`;
}

export function usesLocalClickHouse(config: StackConfig): boolean {
  return config.CLICKHOUSE_URL.replace(/\/$/, '') === `http://127.0.0.1:${config.CRM_CLICKHOUSE_PORT}`;
}
