import { describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import { decodeEvent, type CustomerAtRiskEvent, type OrderEvent, type SegmentChangeEvent } from '@crm/events';
import { createClickHouse, type ClickHouseClient } from '@crm/clickhouse';
import { createLogger } from '@crm/runtime';
import { DEFAULT_SCORING_PARAMETERS, loadScoringParameters, runScoring } from '@crm/scoring';
import { loadIngestConfig, startIngest } from '@crm/ingest';
import { loadPublisherConfig, commitMarks, startPublisher } from '@crm/publisher';
import { readToEnd } from './faults/stack.js';
import { generateOrderEvents } from '@crm/sample-data';
import { useTestInfrastructure } from './support/harness.js';
import { createTestTopics, header, produce, readTopic } from './support/kafka.js';
import { asMessages, orderEvent } from './support/events.js';
import { waitUntil } from './support/wait.js';

const infra = useTestInfrastructure();
const DAY = 86_400_000;
const T1 = Date.parse('2026-06-30T12:00:00Z');
const T2 = T1 + 7 * DAY;

type Change = { customer: string; type: string; from: string | null; to: string };
const key = (c: Change) => `${c.customer} ${c.type} ${c.from} → ${c.to}`;
const TYPES = { rfm: 'rfm_segment', lifecycle: 'lifecycle_stage', tier: 'value_tier' } as const;

interface Snapshot {
  customer_id: string;
  rfm_segment: string;
  lifecycle_stage: string;
  value_tier: string | null;
  churn_probability: number | null;
  /** Worth keeping: clv_alive_12m above the run's median (the worth-keeping tier iron or higher). */
  worth_keeping: boolean;
}

async function snapshot(clickhouse: ClickHouseClient, asOf: number): Promise<Map<string, Snapshot>> {
  const result = await clickhouse.query({
    query: `SELECT customer_id, rfm_segment, lifecycle_stage, value_tier, churn_probability,
                   ifNull(clv_alive_12m > (SELECT keep_cuts[1] FROM scoring_runs FINAL WHERE as_of = {as_of:DateTime64(3, 'UTC')}), false) AS worth_keeping
            FROM customer_scores_history FINAL
            WHERE as_of = {as_of:DateTime64(3, 'UTC')}`,
    query_params: { as_of: (asOf / 1000).toFixed(3) },
    format: 'JSONEachRow',
  });
  return new Map((await result.json<Snapshot>()).map((r) => [r.customer_id, r]));
}

/** What subscribers must have seen, derived from the two runs' history snapshots alone (not from the outbox). */
function expectedChanges(before: Map<string, Snapshot>, after: Map<string, Snapshot>): Change[] {
  const changes: Change[] = [];
  for (const [customer, now] of after) {
    const then = before.get(customer);
    for (const [type, column] of Object.entries(TYPES)) {
      const from = then?.[column] ?? null;
      const to = now[column];
      if (to !== null && to !== from) changes.push({ customer, type, from, to });
    }
  }
  for (const customer of before.keys()) if (!after.has(customer)) throw new Error(`${customer} vanished between runs`);
  return changes;
}

/** The at-risk rule of the scoring path (no tickets or surveys here), replayed over the snapshots. */
function expectedAtRisk(runs: Map<string, Snapshot>[]): string[] {
  const { churnThreshold, recoveryThreshold } = DEFAULT_SCORING_PARAMETERS.risk;
  const state = new Map<string, boolean>();
  const entered: string[] = [];
  runs.forEach((run, i) => {
    for (const [customer, s] of run) {
      const churn = s.churn_probability ?? 0;
      const worth = Boolean(s.worth_keeping);
      if (!state.get(customer) && worth && churn >= churnThreshold) {
        state.set(customer, true);
        entered.push(`${customer} run${i + 1}`);
      } else if (state.get(customer) && churn < recoveryThreshold) state.set(customer, false);
    }
  });
  return entered;
}

describe('segment-change and customer-at-risk events, end to end', () => {
  it('publishes exactly the changes of a scripted history across two runs, and nothing for a third run without new data', { timeout: 240_000 }, async () => {
    const env = infra.env({ PUBLISHER_HEALTH_PORT: '0', PUBLISHER_POLL_MS: '100' });
    const topics = await createTestTopics(infra.kafka, env.CRM_TOPIC_NAMESPACE);
    const ingestConfig = loadIngestConfig(env);
    const ingest = await startIngest(ingestConfig, createLogger('ingest', 'warn'));
    const clickhouse = createClickHouse(ingestConfig);
    const publisher = await startPublisher(loadPublisherConfig(env), createLogger('publisher', 'warn'));
    try {
      // A population for the fits and the cut points, and four scripted customers.
      const population = generateOrderEvents({ seed: 51, customers: 160, end: new Date(T1 - DAY), days: 500, idPrefix: 'pop' });
      const cancelledOrder = 'order-of-canceller';
      const beforeRun1: OrderEvent[] = [
        ...population,
        orderEvent('returner', T1 - 420 * DAY, 80),
        orderEvent('canceller', T1 - 10 * DAY, 60, 'placed', { orderId: cancelledOrder }),
        ...[200, 150, 100, 60, 30, 5].map((d) => orderEvent('regular', T1 - d * DAY, 90)),
      ];
      const beforeRun2: OrderEvent[] = [
        orderEvent('returner', T1 + 5 * DAY, 80), // churned → reactivated
        orderEvent('newcomer', T1 + 3 * DAY, 40), // first assignments in run 2
        orderEvent('canceller', T1 - 10 * DAY, 60, 'cancelled', { orderId: cancelledOrder, occurredAt: T1 + 2 * DAY }), // back to prospect
      ];
      const ingested = async () => {
        const r = await clickhouse.query({ query: 'SELECT uniqExact(event_id) AS n FROM orders', format: 'JSONEachRow' });
        return Number((await r.json<{ n: string }>())[0]!.n);
      };

      await produce(infra.kafka, topics.orders, asMessages(beforeRun1));
      await waitUntil(ingested, (n) => n === new Set(beforeRun1.map((e) => e.event_id)).size);
      // The first run is the installation's baseline: its at-risk entries go out only when configured so.
      await runScoring(clickhouse, new Date(T1), loadScoringParameters({ RISK_ALERT_ON_BASELINE: 'true' }));
      await produce(infra.kafka, topics.orders, asMessages(beforeRun2));
      await waitUntil(ingested, (n) => n === new Set([...beforeRun1, ...beforeRun2].map((e) => e.event_id)).size);
      await runScoring(clickhouse, new Date(T2));

      const run1 = await snapshot(clickhouse, T1);
      const run2 = await snapshot(clickhouse, T2);
      const expected = [...expectedChanges(new Map(), run1), ...expectedChanges(run1, run2)];
      // The script did what it says, so the comparison below is about something.
      expect(expected.filter((c) => c.customer === 'returner').map(key)).toEqual(
        expect.arrayContaining(['returner lifecycle null → churned', 'returner rfm null → lost', 'returner lifecycle churned → reactivated']),
      );
      expect(expected.filter((c) => c.customer === 'newcomer' && c.from === null).map((c) => c.type).sort()).toEqual(['lifecycle', 'rfm', 'tier']);
      expect(expected.filter((c) => c.customer === 'canceller' && c.from !== null).map(key)).toEqual(
        expect.arrayContaining(['canceller lifecycle new → prospect', 'canceller rfm new_customers → prospect']),
      );
      expect(expected.filter((c) => c.customer === 'regular' && c.from !== null)).toEqual([]);

      const decode = <E>(schema: 'segment-changes' | 'customer-at-risk', messages: KafkaMessage[]) =>
        messages.map((m) => {
          const decoded = decodeEvent(schema, m.value!, header(m, 'content-type')!);
          if (!decoded.ok) throw new Error(decoded.rejection.message);
          expect(m.key!.toString()).toBe((decoded.event as { customer_id: string }).customer_id);
          return decoded.event as E;
        });
      const distinct = <E extends { event_id: string }>(events: E[]) => [...new Map(events.map((e) => [e.event_id, e])).values()];
      // Risk decisions share the topic: read until everything recorded for sending is there, at least once.
      const recorded = Number((await (await clickhouse.query({ query: 'SELECT uniqExact(event_id) AS n FROM segment_changes WHERE publish', format: 'JSONEachRow' })).json<{ n: string }>())[0]!.n);
      const published = async () =>
        distinct(decode<SegmentChangeEvent>('segment-changes', await readTopic(infra.kafka, topics.segmentChanges, (m) => new Set(m.map((x) => header(x, 'event-id'))).size >= recorded, 30_000)));
      const sent = await published();
      expect(sent).toHaveLength(recorded);
      const segments = sent.filter((e) => e.segment_type !== 'risk');
      expect(segments.map((e) => key({ customer: e.customer_id, type: e.segment_type, from: e.from, to: e.to })).sort()).toEqual(expected.map(key).sort());

      const atRisk = expectedAtRisk([run1, run2]);
      expect(atRisk.length).toBeGreaterThan(0);
      const risky = distinct(decode<CustomerAtRiskEvent>('customer-at-risk', await readTopic(infra.kafka, topics.customerAtRisk, (m) => m.length >= atRisk.length, 30_000)));
      expect(risky.map((e) => `${e.customer_id} run${e.detected_at === new Date(T1).toISOString() ? 1 : 2}`).sort()).toEqual(atRisk.sort());
      for (const e of risky) expect(e.drivers).toContain('recency_overdue');
      // Risk decisions are on the segment-change stream too (segment_type risk), the same entries.
      const riskChanges = (await published()).filter((e) => e.segment_type === 'risk' && e.to === 'at_risk');
      expect(riskChanges.map((e) => e.event_id).sort()).toEqual(risky.map((e) => e.event_id).sort());

      // A third run an hour later, on the same day and the same data: nothing new anywhere.
      await runScoring(clickhouse, new Date(T2 + 3_600_000));
      // Positive signal first: the publisher handled the run's commit mark; then the topics, to their ends.
      const marks = Number(await commitMarks(clickhouse));
      await waitUntil(async () => publisher.handledCommits(), (handled) => handled >= marks, 30_000);
      expect(distinct(decode<SegmentChangeEvent>('segment-changes', await readToEnd(infra.kafka, topics.segmentChanges)))).toHaveLength(sent.length);
      expect(distinct(decode<CustomerAtRiskEvent>('customer-at-risk', await readToEnd(infra.kafka, topics.customerAtRisk)))).toHaveLength(
        atRisk.length,
      );
    } finally {
      await publisher.stop();
      await ingest.stop();
      await clickhouse.close();
    }
  });
});
