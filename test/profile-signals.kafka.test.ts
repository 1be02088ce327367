import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { ClickEvent, SurveyEvent, TicketEvent } from '@crm/events';
import { createClickHouse } from '@crm/clickhouse';
import { createLogger } from '@crm/runtime';
import { runScoring } from '@crm/scoring';
import { loadIngestConfig, startIngest } from '@crm/ingest';
import { useTestInfrastructure } from './support/harness.js';
import { createTestTopics, produce } from './support/kafka.js';
import { uniqueName } from './support/namespace.js';
import { waitUntil } from './support/wait.js';
import { clickEvent } from './support/events.js';

const infra = useTestInfrastructure();

const T = Date.parse('2026-06-30T00:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

const click = (anonymous: string, customer: string | null, session: string, at: number, type: ClickEvent['type'] = 'page_view'): ClickEvent =>
  clickEvent(anonymous, customer, at, { session, type });
const ticket = (id: string, status: TicketEvent['status'], category: TicketEvent['category'], at: number): TicketEvent => ({
  event_id: randomUUID(),
  occurred_at: iso(at),
  schema_version: 1,
  ticket_id: id,
  customer_id: 'c1',
  status,
  category,
  priority: 'normal',
  channel: 'email',
});
const survey = (kind: SurveyEvent['kind'], score: number, scale: number, at: number): SurveyEvent => ({
  event_id: randomUUID(),
  occurred_at: iso(at),
  schema_version: 1,
  response_id: randomUUID(),
  customer_id: 'c1',
  kind,
  score,
  scale_max: scale,
  expectation: null,
  order_id: null,
  ticket_id: null,
  comment: null,
});

describe('profile signals: identity stitching, engagement, service, satisfaction', () => {
  it('counts a stitched anonymous session for the customer, and computes the signals as of T', async () => {
    const namespace = uniqueName('signals');
    const topics = await createTestTopics(infra.kafka, namespace);
    const config = loadIngestConfig({
      ...infra.env(),
      CRM_TOPIC_NAMESPACE: namespace,
      INGEST_HEALTH_PORT: '0',
    });
    const clickhouse = createClickHouse(config);
    const ingest = await startIngest(config, createLogger('ingest', 'warn'));
    try {
      const clicks = [
        click('d1', null, 's0', T - 40 * DAY), // anonymous, outside 30 days
        click('d1', null, 's1', T - 5 * DAY), // anonymous, stitched later
        click('d1', null, 's1', T - 5 * DAY + HOUR),
        click('d1', 'c1', 's2', T - DAY, 'login'), // links d1 to c1
        click('d1', 'c1', 's2', T - DAY + HOUR),
        click('d2', null, 's9', T - 2 * DAY), // never linked: nobody's
        click('d1', 'c2', 's3', T - 12 * HOUR, 'login'), // d1 already belongs to c1; this click is c2's own
        click('d1', 'c1', 's4', T + HOUR), // after T: not seen by a run as of T
      ];
      const tickets = [
        ticket('t1', 'opened', 'complaint', T - 10 * DAY),
        ticket('t1', 'pending', 'complaint', T - 9 * DAY),
        ticket('t2', 'opened', 'question', T - 100 * DAY),
        ticket('t2', 'resolved', 'question', T - 99 * DAY),
        ticket('t3', 'opened', 'complaint', T - 120 * DAY),
        ticket('t3', 'closed', 'complaint', T - 110 * DAY),
        ticket('t2', 'reopened', 'question', T + DAY), // after T
      ];
      const surveys = [
        survey('csat', 5, 5, T - 30 * DAY), // satisfied (top-two box)
        survey('csat', 3, 5, T - 3 * DAY), // not satisfied
        survey('csat', 1, 7, T - 400 * DAY), // outside the window
        survey('nps', 9, 10, T - 20 * DAY),
        survey('nps', 3, 10, T - 2 * DAY), // latest NPS
      ];
      await produce(infra.kafka, topics.clicks, clicks.map((c) => ({ key: c.customer_id ?? c.anonymous_id, value: JSON.stringify(c) })));
      await produce(infra.kafka, topics.tickets, tickets.map((t) => ({ key: t.customer_id, value: JSON.stringify(t) })));
      await produce(infra.kafka, topics.surveys, surveys.map((s) => ({ key: s.customer_id, value: JSON.stringify(s) })));
      const total = async () => {
        const r = await clickhouse.query({
          query: 'SELECT (SELECT uniqExact(event_id) FROM clicks) + (SELECT uniqExact(event_id) FROM tickets) + (SELECT uniqExact(event_id) FROM surveys) AS n',
          format: 'JSONEachRow',
        });
        return Number((await r.json<{ n: number }>())[0]!.n);
      };
      await waitUntil(total, (n) => n === clicks.length + tickets.length + surveys.length);

      await runScoring(clickhouse, new Date(T));
      const result = await clickhouse.query({
        query: `SELECT customer_id, clicks_30d, sessions_30d, last_click_at, open_tickets, complaints_90d, csat, last_nps, first_seen_at, last_seen_at, purchases_total
                FROM customer_profiles FINAL ORDER BY customer_id`,
        format: 'JSONEachRow',
      });
      const rows = await result.json<Record<string, unknown>>();
      expect(rows).toEqual([
        {
          customer_id: 'c1',
          clicks_30d: 4,
          sessions_30d: 2,
          last_click_at: '2026-06-29 01:00:00.000',
          open_tickets: 1,
          complaints_90d: 1,
          csat: 50,
          last_nps: 3,
          first_seen_at: '2025-05-26 00:00:00.000',
          last_seen_at: '2026-06-29 01:00:00.000',
          purchases_total: 0,
        },
        {
          customer_id: 'c2',
          clicks_30d: 1,
          sessions_30d: 1,
          last_click_at: '2026-06-29 12:00:00.000',
          open_tickets: 0,
          complaints_90d: 0,
          csat: null,
          last_nps: null,
          first_seen_at: '2026-06-29 12:00:00.000',
          last_seen_at: '2026-06-29 12:00:00.000',
          purchases_total: 0,
        },
      ]);

      // last_nps counts for SCORING_NPS_WINDOW_DAYS (180): the answer of day T − 2 until day T + 177, then none.
      const lastNps = async (asOf: number) => {
        await runScoring(clickhouse, new Date(asOf));
        const r = await clickhouse.query({ query: "SELECT last_nps FROM customer_profiles FINAL WHERE customer_id = 'c1'", format: 'JSONEachRow' });
        return (await r.json<{ last_nps: number | null }>())[0]!.last_nps;
      };
      expect(await lastNps(T + 177 * DAY)).toBe(3);
      expect(await lastNps(T + 178 * DAY)).toBeNull();
    } finally {
      await ingest.stop();
      await clickhouse.close();
    }
  });
});
