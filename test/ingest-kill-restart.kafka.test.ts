import { describe, expect, it } from 'vitest';
import type { OrderEvent } from '@crm/events';
import { createClickHouse } from '@crm/clickhouse';
import { generateCustomerEvents, seededRandom } from '@crm/sample-data';
import { runScoring } from '@crm/scoring';
import { loadIngestConfig } from '@crm/ingest';
import { sleep } from '@crm/runtime';
import { useTestInfrastructure } from './support/harness.js';
import { createTestTopics, produceSample } from './support/kafka.js';
import { uniqueName } from './support/namespace.js';
import { spawnService } from './support/processes.js';
import { profilesByCustomer } from './support/queries.js';
import { centsToDecimal4, referenceProfiles } from './support/reference-profiles.js';

const infra = useTestInfrastructure();

const NAMES = ['orders', 'clicks', 'tickets', 'surveys'] as const;
const AS_OF = new Date('2026-10-31T00:00:00Z');

describe('ingest under repeated SIGKILL', () => {
  it('100 000 events, killed at random points several times, end with exact totals', { timeout: 480_000 }, async () => {
    const namespace = uniqueName('kill');
    const topics = await createTestTopics(infra.kafka, namespace, 6);
    const env = {
      ...infra.env(),
      CRM_TOPIC_NAMESPACE: namespace,
      INGEST_HEALTH_PORT: '0',
      INGEST_SESSION_TIMEOUT_MS: '6000',
    };
    const clickhouse = createClickHouse(loadIngestConfig(env));

    const expected = { orders: new Set<string>(), clicks: new Set<string>(), tickets: new Set<string>(), surveys: new Set<string>() };
    const orders: OrderEvent[] = [];
    let produced = 0;
    for (let chunk = 0; produced < 100_000; chunk++) {
      const sample = generateCustomerEvents({ seed: 77 + chunk, customers: 1000, end: AS_OF, idPrefix: `k${chunk}`, duplicateShare: 0.02 });
      orders.push(...sample.orders);
      produced += await produceSample(infra.kafka, topics, sample, expected);
    }
    expect(produced).toBeGreaterThanOrEqual(100_000);

    const count = async (table: string) => {
      const r = await clickhouse.query({ query: `SELECT uniqExact(event_id) AS n FROM ${table}`, format: 'JSONEachRow' });
      return Number((await r.json<{ n: number }>())[0]!.n);
    };
    const stored = async () => (await Promise.all(NAMES.map(count))).reduce((a, b) => a + b, 0);
    const total = NAMES.reduce((n, name) => n + expected[name].size, 0);

    // Kill points are random but seeded, so a failure can be replayed.
    const random = seededRandom(2026);
    const progress: number[] = [];
    for (let kill = 0; kill < 4; kill++) {
      const ingest = spawnService('services/ingest/src/main.ts', env);
      await ingest.waitForLog((l) => l.msg === 'ingest running', 120_000);
      await sleep(1_000 + Math.floor(random() * 3_000));
      await ingest.kill('SIGKILL');
      progress.push(await stored());
    }
    // At least one kill landed mid-run: some rows written, not all.
    expect(progress.some((p) => p > 0 && p < total), `rows after each kill: ${progress.join(', ')} of ${total}`).toBe(true);

    const last = spawnService('services/ingest/src/main.ts', env);
    try {
      const deadline = Date.now() + 300_000;
      while ((await stored()) < total && Date.now() < deadline) await sleep(1_000);
      for (const name of NAMES) expect(await count(name), name).toBe(expected[name].size);

      await runScoring(clickhouse, AS_OF);
      const got = await profilesByCustomer(clickhouse);
      const want = referenceProfiles(orders, AS_OF);
      let compared = 0;
      for (const [customer, reference] of want) {
        const row = got.get(customer);
        expect({ customer, purchases: row?.purchases_total, revenue: Number(row?.revenue).toFixed(4) }).toEqual({
          customer,
          purchases: reference.purchases,
          revenue: centsToDecimal4(reference.revenueCents),
        });
        compared++;
      }
      expect(compared).toBeGreaterThan(2_000);
    } finally {
      await last.kill('SIGTERM');
      await clickhouse.close();
    }
  });
});
