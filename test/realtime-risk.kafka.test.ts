import { describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import { decodeEvent, type CustomerAtRiskEvent, type SegmentChangeEvent } from '@crm/events';
import { createClickHouse } from '@crm/clickhouse';
import { createLogger, sleep } from '@crm/runtime';
import { loadScoringConfig, startScoring } from '@crm/scoring';
import { loadIngestConfig, startIngest } from '@crm/ingest';
import { loadPublisherConfig, startPublisher } from '@crm/publisher';
import { useTestInfrastructure } from './support/harness.js';
import { createTestTopics, header, produce, readTopic } from './support/kafka.js';
import { asMessages, orderEvent, shopWithVip, ticketEvent } from './support/events.js';
import { waitUntil } from './support/wait.js';

const infra = useTestInfrastructure();

const decode = <E>(schema: 'segment-changes' | 'customer-at-risk', messages: KafkaMessage[]) =>
  messages.map((m) => {
    const decoded = decodeEvent(schema, m.value!, header(m, 'content-type')!);
    if (!decoded.ok) throw new Error(decoded.rejection.message);
    return decoded.event as E;
  });

describe('real-time path: incremental re-scoring and at-risk events without a scoring run', () => {
  it('turns a complaint for a platinum customer into one at-risk event without a scoring run, and an order of a churned customer into a segment change', { timeout: 420_000 }, async () => {
    const env = infra.env({
      PUBLISHER_HEALTH_PORT: '0',
      // Only scoring's commit notices can wake the publisher in time: its poll would come after every wait below.
      PUBLISHER_POLL_MS: '600000',
      SCORING_HEALTH_PORT: '0',
      // One full run at start-up; everything after it is the incremental path.
      SCORING_INTERVAL_SECONDS: '3600',
    });
    const topics = await createTestTopics(infra.kafka, env.CRM_TOPIC_NAMESPACE);
    const ingestConfig = loadIngestConfig(env);
    const ingest = await startIngest(ingestConfig, createLogger('ingest', 'warn'));
    const clickhouse = createClickHouse(ingestConfig);
    const now = Date.now();
    const history = shopWithVip(77, now);
    await produce(infra.kafka, topics.orders, asMessages(history));
    await waitUntil(
      async () => Number((await (await clickhouse.query({ query: 'SELECT uniqExact(event_id) AS n FROM orders', format: 'JSONEachRow' })).json<{ n: string }>())[0]!.n),
      (n) => n === new Set(history.map((e) => e.event_id)).size,
    );

    const scoring = await startScoring(loadScoringConfig(env), createLogger('scoring', 'warn'));
    const publisher = await startPublisher(loadPublisherConfig(env), createLogger('publisher', 'warn'));
    try {
      const profile = async (customer: string) =>
        (await (await clickhouse.query({
          query: 'SELECT value_tier, lifecycle_stage, open_complaints FROM customer_profiles FINAL WHERE customer_id = {c:String}',
          query_params: { c: customer },
          format: 'JSONEachRow',
        })).json<{ value_tier: string | null; lifecycle_stage: string; open_complaints: number }>())[0];
      // The positive signal: the start-up run scored the population with a model and is the basis of updates
      // (incremental updates that arrived before it wrote nothing, so no score-less profile can be the newest).
      const basis = async () =>
        Number((await (await clickhouse.query({
          query: 'SELECT count() AS n FROM scoring_runs FINAL WHERE customers > 0 AND mbgnbd_fit_as_of IS NOT NULL',
          format: 'JSONEachRow',
        })).json<{ n: string }>())[0]!.n);
      await waitUntil(basis, (n) => n > 0, 60_000);
      await waitUntil(() => profile('vip'), (p) => p !== undefined, 60_000);
      expect(await profile('vip')).toMatchObject({ value_tier: 'platinum', open_complaints: 0 });
      const scoreless = await (await clickhouse.query({
        query: 'SELECT count() AS n FROM customer_profiles FINAL WHERE purchases_total > 0 AND (p_alive IS NULL OR clv_12m IS NULL OR value_tier IS NULL)',
        format: 'JSONEachRow',
      })).json<{ n: string }>();
      expect(Number(scoreless[0]!.n)).toBe(0);
      const atRiskFor = async (customer: string, waitMs: number, enough = 1) =>
        decode<CustomerAtRiskEvent>('customer-at-risk', await readTopic(infra.kafka, topics.customerAtRisk, (m) => m.filter((x) => x.key?.toString() === customer).length >= enough, waitMs)).filter(
          (e) => e.customer_id === customer,
        );
      expect(await atRiskFor('vip', 2_000)).toEqual([]);

      // A complaint: an at-risk event with its driver, with no scoring run in between (the next is an hour away).
      // Waits are for the positive signal, generous for a loaded machine: latency is a benchmark's business.
      await produce(infra.kafka, topics.tickets, asMessages([ticketEvent('vip', 'vip-t1', 'opened', 'complaint', Date.now())]));
      const [alert, ...more] = await atRiskFor('vip', 90_000);
      expect(alert).toMatchObject({ customer_id: 'vip', value_tier: 'platinum' });
      expect(alert!.drivers).toContain('open_complaint');
      expect(more).toEqual([]);

      // A second complaint before recovery: re-scored (two open complaints), but no second event.
      await produce(infra.kafka, topics.tickets, asMessages([ticketEvent('vip', 'vip-t2', 'opened', 'complaint', Date.now())]));
      await waitUntil(() => profile('vip'), (p) => p?.open_complaints === 2, 90_000);
      await sleep(1_000);
      expect(await atRiskFor('vip', 3_000, 2)).toHaveLength(1);

      // An order from a churned customer moves them at once (churned → reactivated).
      const [churned] = await (await clickhouse.query({
        query: "SELECT customer_id FROM customer_profiles FINAL WHERE lifecycle_stage = 'churned' ORDER BY customer_id LIMIT 1",
        format: 'JSONEachRow',
      })).json<{ customer_id: string }>();
      expect(churned).toBeDefined();
      await produce(infra.kafka, topics.orders, asMessages([orderEvent(churned!.customer_id, Date.now() - 1_000, 55)]));
      const moved = await readTopic(
        infra.kafka,
        topics.segmentChanges,
        (m) => decode<SegmentChangeEvent>('segment-changes', m).some((e) => e.customer_id === churned!.customer_id && e.from === 'churned'),
        90_000,
      );
      const changes = decode<SegmentChangeEvent>('segment-changes', moved).filter((e) => e.customer_id === churned!.customer_id && e.segment_type === 'lifecycle');
      expect(changes.at(-1)).toMatchObject({ from: 'churned', to: 'reactivated' });
    } finally {
      await publisher.stop();
      await scoring.stop();
      await ingest.stop();
      await clickhouse.close();
    }
  });
});
