import { describe, expect, it } from 'vitest';
import { createClickHouse } from '@crm/clickhouse';
import { generateOrderEvents } from '@crm/sample-data';
import { runScoring } from '@crm/scoring';
import { loadIngestConfig } from '@crm/ingest';
import { useTestInfrastructure } from './support/harness.js';
import { committedMessages, createTestTopics, produce } from './support/kafka.js';
import { uniqueName } from './support/namespace.js';
import { spawnService } from './support/processes.js';
import { profilesByCustomer, uniqueOrderEvents } from './support/queries.js';
import { centsToDecimal4, referenceProfiles } from './support/reference-profiles.js';
import { waitUntil } from './support/wait.js';

const infra = useTestInfrastructure();

describe('ingest crash safety', () => {
  it('commits no offset before the write: SIGKILL between consuming and writing loses nothing', async () => {
    const namespace = uniqueName('crash');
    const env = {
      ...infra.env(),
      CRM_TOPIC_NAMESPACE: namespace,
      INGEST_HEALTH_PORT: '0',
      // The killed member's partitions are reassigned once its session expires.
      INGEST_SESSION_TIMEOUT_MS: '6000',
    };
    const topics = await createTestTopics(infra.kafka, namespace);
    const clickhouse = createClickHouse(loadIngestConfig(env));
    const events = generateOrderEvents({ seed: 11, customers: 80, end: new Date('2026-06-30T00:00:00Z'), idPrefix: 'k11' });
    const unique = new Set(events.map((e) => e.event_id)).size;

    // First life: consumes, then is held before writing, and is killed there.
    const doomed = spawnService('services/ingest/src/main.ts', { ...env, INGEST_TEST_DELAY_BEFORE_WRITE_MS: '600000' });
    await doomed.waitForLog((l) => l.msg === 'ingest running', 120_000);
    await produce(infra.kafka, topics.orders, events.map((e) => ({ key: e.customer_id, value: JSON.stringify(e) })));
    const decoded = await doomed.waitForLog((l) => l.msg === 'batch decoded');
    expect(Number(decoded.size)).toBeGreaterThan(0);
    await doomed.kill('SIGKILL');

    expect(await uniqueOrderEvents(clickhouse)).toBe(0);
    expect(await committedMessages(infra.kafka, `${namespace}.crm-ingest`, [topics.orders])).toBe(0);

    // Second life: everything arrives, exactly once.
    const survivor = spawnService('services/ingest/src/main.ts', env);
    try {
      await waitUntil(() => uniqueOrderEvents(clickhouse), (n) => n === unique, 120_000);
      await waitUntil(() => committedMessages(infra.kafka, `${namespace}.crm-ingest`, [topics.orders]), (n) => n === events.length);

      const asOf = new Date('2026-06-30T00:00:00Z');
      await runScoring(clickhouse, asOf);
      const got = await profilesByCustomer(clickhouse);
      const expected = referenceProfiles(events, asOf);
      expect(got.size).toBe(expected.size);
      for (const [customer, want] of expected) {
        expect({ customer, purchases: got.get(customer)?.purchases_total, revenue: Number(got.get(customer)?.revenue).toFixed(4) }).toEqual({
          customer,
          purchases: want.purchases,
          revenue: centsToDecimal4(want.revenueCents),
        });
      }
    } finally {
      // A clean shutdown on SIGTERM exits 0.
      expect(await survivor.kill('SIGTERM')).toBe(0);
      await clickhouse.close();
    }
  });
});
