import { afterAll, beforeAll, inject } from 'vitest';
import type { Kafka } from 'kafkajs';
import { startTestClickHouse, type TestClickHouse } from './clickhouse.js';
import { testKafka } from './kafka.js';
import { uniqueName } from './namespace.js';

export interface TestInfrastructure {
  readonly clickhouse: TestClickHouse;
  readonly kafka: Kafka;
  /**
   * The environment a service or the CLI needs to work in an isolated corner of
   * the shared broker (its own topic namespace) and ClickHouse (its own database).
   */
  env(extra?: Record<string, string>): Record<string, string> & { CRM_TOPIC_NAMESPACE: string; CLICKHOUSE_DATABASE: string };
}

/** One ClickHouse host per test file (chDB binds one directory per process) and the run's broker. */
export function useTestInfrastructure(): TestInfrastructure {
  let clickhouse: TestClickHouse | undefined;
  let kafka: Kafka | undefined;
  beforeAll(async () => {
    clickhouse = await startTestClickHouse();
    kafka = testKafka();
  });
  afterAll(async () => {
    await clickhouse?.stop();
  });
  return {
    get clickhouse() {
      return clickhouse!;
    },
    get kafka() {
      return kafka!;
    },
    env: (extra = {}) => ({
      KAFKA_BROKERS: inject('kafkaBrokers'),
      CLICKHOUSE_URL: clickhouse!.url,
      CLICKHOUSE_USER: clickhouse!.user,
      CLICKHOUSE_PASSWORD: clickhouse!.password,
      CLICKHOUSE_DATABASE: uniqueName('crm'),
      CRM_TOPIC_NAMESPACE: uniqueName('t'),
      INGEST_HEALTH_PORT: '0',
      // A free port: test stacks run side by side and must not contend for the dashboard's 8080.
      CRM_WEB_PORT: '0',
      ...extra,
    }),
  };
}
