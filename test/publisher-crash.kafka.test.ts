import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { createClickHouse } from '@crm/clickhouse';
import { loadPublisherConfig } from '@crm/publisher';
import { loadScoringParameters, runScoring } from '@crm/scoring';
import { migrateOnStart } from '@crm/clickhouse';
import { createLogger, sleep } from '@crm/runtime';
import { rawOrderRow, seededRandom } from '@crm/sample-data';
import { useTestInfrastructure } from './support/harness.js';
import { createTestTopics, readTopic } from './support/kafka.js';
import { spawnService } from './support/processes.js';
import { waitUntil } from './support/wait.js';

const infra = useTestInfrastructure();
const DAY = 86_400_000;
const T = Date.parse('2026-06-30T12:00:00Z');

async function messagesOn(kafka: Kafka, topics: string[]): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await Promise.all(topics.map((t) => admin.fetchTopicOffsets(t)));
    return offsets.flat().reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

describe('publisher under SIGKILL', () => {
  it('killed between sends and bookkeeping, delivers every outbox event at least once, each id with one payload, nothing else', { timeout: 300_000 }, async () => {
    const env = infra.env({
      PUBLISHER_HEALTH_PORT: '0',
      PUBLISHER_POLL_MS: '100',
      PUBLISHER_BATCH_SIZE: '150',
      PUBLISHER_ENCODING: 'avro',
    });
    const topics = await createTestTopics(infra.kafka, env.CRM_TOPIC_NAMESPACE);
    const config = loadPublisherConfig(env);
    await migrateOnStart(config, createLogger('test', 'warn'));
    const clickhouse = createClickHouse(config);
    const random = seededRandom(2026);
    const rows = [];
    // Customers as the models see them: each buys at their own rate until they silently drop out.
    for (let c = 0; c < 700; c++) {
      const rate = 0.002 + 0.04 * random() * random();
      const first = T - Math.floor(random() * 600) * DAY;
      const end = Math.min(T, first - Math.log(1 - random()) * 250 * DAY);
      const spend = 10 + 200 * random();
      for (let at = first; at <= end; at += -Math.log(1 - random()) / rate * DAY) rows.push(rawOrderRow(`k${c}`, at, spend * (0.5 + random())));
    }
    // Big spenders who went quiet: valuable enough to keep, likely lapsed — at risk.
    for (let c = 0; c < 40; c++) {
      for (let o = 0; o < 6; o++) rows.push(rawOrderRow(`lapsed${c}`, T - (200 + c * 3 + o * 20) * DAY, 4_000));
    }
    await clickhouse.insert({ table: 'orders', values: rows, format: 'JSONEachRow' });
    // The first run is the baseline: its at-risk entries are sent only when configured so.
    const run = await runScoring(clickhouse, new Date(T), loadScoringParameters({ RISK_ALERT_ON_BASELINE: 'true' }));
    expect(run.fits.failures).toEqual([]);
    const outbox = new Map(
      (await (await clickhouse.query({
        // Every published row goes to crm.segment-changes.v1 (risk decisions too); entries into risk also to crm.customer-at-risk.v1, with the same id.
        query: `SELECT concat('segment-changes ', toString(event_id)) AS key, segment_type AS kind FROM segment_changes FINAL WHERE publish
                UNION ALL
                SELECT concat('customer-at-risk ', toString(event_id)) AS key, 'at-risk' AS kind FROM segment_changes FINAL WHERE publish AND segment_type = 'risk' AND \`to\` = 'at_risk'`,
        format: 'JSONEachRow',
      })).json<{ key: string; kind: string }>()).map((r) => [r.key, r.kind]),
    );
    const atRisk = [...outbox.values()].filter((t) => t === 'at-risk').length;
    expect(atRisk).toBeGreaterThan(0);
    expect(outbox.size).toBeGreaterThan(1500);

    const outputTopics = [topics.segmentChanges, topics.customerAtRisk];
    // Each kill lands in the window after Kafka acknowledged a batch and before the cursor is recorded.
    for (let kill = 0; kill < 3; kill++) {
      const before = await messagesOn(infra.kafka, outputTopics);
      const publisher = spawnService('services/publisher/src/main.ts', { ...env, PUBLISHER_TEST_DELAY_AFTER_SEND_MS: '400' });
      await waitUntil(() => messagesOn(infra.kafka, outputTopics), (n) => n > before, 60_000);
      await sleep(Math.floor(random() * 150));
      expect(await publisher.kill('SIGKILL')).toBeNull();
    }
    const publisher = spawnService('services/publisher/src/main.ts', env);
    try {
      const keyed = (tag: string, messages: KafkaMessage[]) => messages.map((m) => ({ key: `${tag} ${m.headers!['event-id']!.toString()}`, m }));
      const ids = async () => [
        ...keyed('segment-changes', await readTopic(infra.kafka, topics.segmentChanges, () => false, 1_500)),
        ...keyed('customer-at-risk', await readTopic(infra.kafka, topics.customerAtRisk, () => false, 1_500)),
      ];
      const all = await waitUntil(ids, (k) => new Set(k.map((x) => x.key)).size >= outbox.size, 120_000);

      const payloads = new Map<string, Set<string>>();
      for (const { key: id, m } of all) {
        payloads.set(id, (payloads.get(id) ?? new Set()).add(m.value!.toString('base64')));
      }
      // Every expected event arrived; nothing unexpected did; a resent id carries the same bytes.
      expect([...payloads.keys()].sort()).toEqual([...outbox.keys()].sort());
      expect([...payloads.values()].filter((p) => p.size > 1)).toEqual([]);
      // The kills really interrupted a batch: some events were sent twice.
      expect(all.length).toBeGreaterThan(outbox.size);
    } finally {
      expect(await publisher.kill('SIGTERM')).toBe(0);
      await clickhouse.close();
    }
  });
});
