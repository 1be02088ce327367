import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort, provisionKafka, startBroker, stopBroker } from '@crm/kafka-local';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}

/**
 * One real broker for the whole run: KAFKA_BROKERS if set (an existing
 * broker), a testcontainers broker where TESTCONTAINERS=1, else a local KRaft
 * node on free ports in a fresh directory, stopped at the end.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (process.env.KAFKA_BROKERS) {
    project.provide('kafkaBrokers', process.env.KAFKA_BROKERS);
    return undefined;
  }
  if (process.env.TESTCONTAINERS === '1') {
    const { startKafkaContainer } = await import('./support/containers.js');
    const kafka = await startKafkaContainer();
    project.provide('kafkaBrokers', kafka.brokers);
    return kafka.stop;
  }
  await provisionKafka(undefined, (line) => console.log(`[kafka] ${line}`));
  const dir = mkdtempSync(join(tmpdir(), 'crm-test-kafka-'));
  const broker = await startBroker({ dir, port: await freePort(), controllerPort: await freePort() });
  console.log(`[kafka] test broker on ${broker.brokers} (log ${broker.logFile})`);
  project.provide('kafkaBrokers', broker.brokers);
  return async () => {
    await stopBroker(dir);
    rmSync(dir, { recursive: true, force: true });
  };
}
