import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { freePort, provisionKafka, startBroker, stopBroker } from '@crm/kafka-local';
import { createKafka } from '@crm/kafka';
import { createLogger } from '@crm/runtime';
import { startTestClickHouse, type TestClickHouse } from '../support/clickhouse.js';
import { uniqueName } from '../support/namespace.js';
import { expectAccountedFor, formatFuzzReport, runIngestFuzz } from '../support/fuzz-run.js';

/**
 * The ingest fuzzer's long form: FUZZ_MESSAGES (default 100 000) mutated messages from
 * FUZZ_SEED (default: the time, printed, so a failure is reproduced with it) through a
 * broker and ClickHouse host of its own. The short form runs in `pnpm test`.
 */
const count = Number(process.env.FUZZ_MESSAGES ?? 100_000);
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
let dir: string;
let brokers: string;
let kafka: Kafka;
let clickhouse: TestClickHouse;

beforeAll(async () => {
  await provisionKafka(undefined, (line) => console.log(`[kafka] ${line}`));
  dir = mkdtempSync(join(tmpdir(), 'crm-fuzz-kafka-'));
  brokers = (await startBroker({ dir, port: await freePort(), controllerPort: await freePort() })).brokers;
  kafka = createKafka({ KAFKA_BROKERS: brokers }, { clientId: 'crm-fuzz', logger: createLogger('fuzz', 'error') });
  clickhouse = await startTestClickHouse();
}, 300_000);
afterAll(async () => {
  await clickhouse?.stop();
  if (dir) {
    await stopBroker(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

describe('ingest fuzzer (long form)', () => {
  it(`${count} mutated events: ingest stays alive and every message is one row or one dead letter`, { timeout: 60 * 60_000 }, async () => {
    console.log(`ingest fuzz long form: seed ${seed} (FUZZ_SEED=${seed} reproduces it), ${count} messages`);
    const report = await runIngestFuzz({
      kafka,
      seed,
      count,
      log: (line) => console.log(line),
      env: {
        KAFKA_BROKERS: brokers,
        CLICKHOUSE_URL: clickhouse.url,
        CLICKHOUSE_USER: clickhouse.user,
        CLICKHOUSE_PASSWORD: clickhouse.password,
        CLICKHOUSE_DATABASE: uniqueName('crm'),
        CRM_TOPIC_NAMESPACE: uniqueName('fuzz'),
        INGEST_HEALTH_PORT: '0',
      },
    });
    console.log(formatFuzzReport(report));
    expectAccountedFor(report);
  });
});
