import { describe, expect, it } from 'vitest';
import { createClickHouse } from '@crm/clickhouse';
import { generateCustomerEvents } from '@crm/sample-data';
import { loadIngestConfig } from '@crm/ingest';
import { groupId } from '@crm/kafka';
import { sleep } from '@crm/runtime';
import { useTestInfrastructure } from './support/harness.js';
import { committedMessages, createTestTopics, produceSample } from './support/kafka.js';
import { uniqueName } from './support/namespace.js';
import { spawnService, type ServiceProcess } from './support/processes.js';

const infra = useTestInfrastructure();

const NAMES = ['orders', 'clicks', 'tickets', 'surveys'] as const;

describe('a second ingest instance', () => {
  // Each instance has a batch of every partition it owns in flight while the next is fetched
  // (partitionLanes): a rebalance moves partitions whose last batch is written but not committed.
  it('joins and leaves mid-stream: every event stored once, every offset committed, nothing logged as an error', { timeout: 300_000 }, async () => {
    const namespace = uniqueName('second');
    const topics = await createTestTopics(infra.kafka, namespace, 6);
    const env = { ...infra.env(), CRM_TOPIC_NAMESPACE: namespace, INGEST_HEALTH_PORT: '0', INGEST_SESSION_TIMEOUT_MS: '6000' };
    const clickhouse = createClickHouse(loadIngestConfig(env));
    const expected = { orders: new Set<string>(), clicks: new Set<string>(), tickets: new Set<string>(), surveys: new Set<string>() };
    let produced = 0;
    const produceChunk = async (chunk: number) => {
      const sample = generateCustomerEvents({ seed: 500 + chunk, customers: 500, end: new Date('2026-10-31T00:00:00Z'), idPrefix: `s${chunk}` });
      produced += await produceSample(infra.kafka, topics, sample, expected, 'json');
    };
    const count = async (table: string) => {
      const r = await clickhouse.query({ query: `SELECT uniqExact(event_id) AS n FROM ${table}`, format: 'JSONEachRow' });
      return Number((await r.json<{ n: number }>())[0]!.n);
    };
    const inputTopics = NAMES.map((n) => topics[n]);
    const committed = () => committedMessages(infra.kafka, groupId(namespace, 'crm-ingest'), inputTopics);
    const errors = (p: ServiceProcess) => p.lines.filter((l) => Number(l.level) >= 50).map((l) => l.msg);

    for (let chunk = 0; chunk < 4; chunk++) await produceChunk(chunk);
    const first = spawnService('services/ingest/src/main.ts', env);
    let second: ServiceProcess | undefined;
    try {
      await first.waitForLog((l) => l.msg === 'batch committed', 120_000);
      // Events go on streaming in while the second instance joins and the first one leaves.
      const streaming = (async () => {
        for (let chunk = 4; chunk < 12; chunk++) {
          await produceChunk(chunk);
          await sleep(300);
        }
      })();
      await sleep(500);
      second = spawnService('services/ingest/src/main.ts', env);
      await second.waitForLog((l) => l.msg === 'batch committed', 120_000);
      await first.kill('SIGTERM');
      await streaming;
      const deadline = Date.now() + 120_000;
      while ((await committed()) < produced && Date.now() < deadline) await sleep(500);
      expect(await committed()).toBe(produced);
      for (const name of NAMES) expect(await count(name), name).toBe(expected[name].size);
      expect(errors(first)).toEqual([]);
      expect(errors(second)).toEqual([]);
    } finally {
      await Promise.all([first.kill('SIGTERM'), second?.kill('SIGTERM')]);
      await clickhouse.close();
    }
  });
});
