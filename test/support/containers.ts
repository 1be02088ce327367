// Used only where Docker exists and TESTCONTAINERS=1 (this project's CI machines have no Docker engine).
import { KafkaContainer } from '@testcontainers/kafka';
import { ClickHouseContainer } from '@testcontainers/clickhouse';
import type { TestClickHouse } from './clickhouse.js';

export async function startKafkaContainer(): Promise<{ brokers: string; stop: () => Promise<void> }> {
  const container = await new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start();
  return {
    brokers: `${container.getHost()}:${container.getMappedPort(9093)}`,
    stop: async () => {
      await container.stop();
    },
  };
}

export async function startClickHouseContainer(): Promise<TestClickHouse> {
  const container = await new ClickHouseContainer('clickhouse/clickhouse-server:25.8').start();
  return {
    url: container.getHttpUrl(),
    user: container.getUsername(),
    password: container.getPassword(),
    stop: async () => {
      await container.stop();
    },
  };
}
