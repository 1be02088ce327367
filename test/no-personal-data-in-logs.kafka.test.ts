import { describe, expect, it } from 'vitest';
import { createClickHouse } from '@crm/clickhouse';
import { decodeEvent } from '@crm/events';
import { loadIngestConfig } from '@crm/ingest';
import { topicNames } from '@crm/kafka';
import { CUSTOMER_AT_RISK, publisherBacklog, SEGMENT_CHANGES } from '@crm/publisher';
import { generateLoad, type LoadMessage } from '@crm/sample-data';
import { useTestInfrastructure } from './support/harness.js';
import { committedMessages, createTestTopics, produce } from './support/kafka.js';
import { orderEvent } from './support/events.js';
import { spawnService, type ServiceProcess } from './support/processes.js';
import { isRunning } from './support/services.js';
import { waitUntil } from './support/wait.js';

const infra = useTestInfrastructure();

/** The input fields that are personal data: who, what they browsed and searched for, what they wrote. */
const PERSONAL_FIELDS = ['customer_id', 'anonymous_id', 'url', 'query', 'comment'] as const;

function personalValues(messages: readonly LoadMessage[]): Set<string> {
  const values = new Set<string>();
  for (const m of messages) {
    if (!m.valid) continue;
    const decoded = decodeEvent(m.topic, m.value, m.headers['content-type']!);
    if (!decoded.ok) throw new Error(`the load generator sent an invalid event: ${decoded.rejection.message}`);
    const event = decoded.event as unknown as Record<string, unknown>;
    for (const field of PERSONAL_FIELDS) {
      const value = event[field];
      // Short values (a one-letter query) would match unrelated text; every id and URL is longer.
      if (typeof value === 'string' && value.length >= 8) values.add(value);
    }
  }
  return values;
}

describe('no personal data in logs', () => {
  it('ingest, scoring and the publisher at debug level, over all four streams, bad input and ClickHouse refusing rows, log no customer id, anonymous id, URL, query or comment', { timeout: 300_000 }, async () => {
    const env = infra.env({
      LOG_LEVEL: 'debug',
      SCORING_HEALTH_PORT: '0',
      PUBLISHER_HEALTH_PORT: '0',
      PUBLISHER_POLL_MS: '200',
      SCORING_INTERVAL_SECONDS: '5',
      RISK_ALERT_ON_BASELINE: 'true',
    });
    const topics = await createTestTopics(infra.kafka, env.CRM_TOPIC_NAMESPACE);
    const names = topicNames(env.CRM_TOPIC_NAMESPACE);
    const clickhouse = createClickHouse(loadIngestConfig(env));
    let personal = new Set<string>();
    const services: ServiceProcess[] = [];
    try {
      const ingest = spawnService('services/ingest/src/main.ts', env);
      services.push(ingest);
      await ingest.waitForLog((l) => l.msg === 'ingest running', 120_000);
      // ClickHouse's refusals quote the row: one order refused on insert (ingest), one
      // customer's profile refused on every scoring write (scoring's errors).
      const refusedOrder = 'refused-order-customer-7f3a';
      const refusedProfile = 'refused-profile-customer-91c2';
      await clickhouse.command({ query: `ALTER TABLE orders ADD CONSTRAINT pii_probe CHECK customer_id != '${refusedOrder}'` });
      await clickhouse.command({ query: `ALTER TABLE customer_profiles ADD CONSTRAINT pii_probe CHECK customer_id != '${refusedProfile}'` });

      const load = [...generateLoad({ seed: 7, events: 3000, idPrefix: 'pdx', malformedShare: 0.03, duplicateShare: 0.01, end: new Date(Date.now() - 86_400_000), days: 200 })].flatMap((c) => c.messages);
      const probes = [orderEvent(refusedOrder, Date.now() - 3_600_000, 42), orderEvent(refusedProfile, Date.now() - 3_600_000, 43)];
      personal = personalValues(load);
      for (const p of probes) personal.add(p.customer_id);
      expect(personal.size).toBeGreaterThan(500);

      for (const stream of ['orders', 'clicks', 'tickets', 'surveys'] as const) {
        await produce(infra.kafka, names[stream], load.filter((m) => m.topic === stream).map((m) => ({ key: m.key, value: m.value, headers: m.headers })));
      }
      await produce(infra.kafka, names.orders, probes.map((e) => ({ key: e.customer_id, value: JSON.stringify(e) })));
      const inputTopics = [topics.orders, topics.clicks, topics.tickets, topics.surveys];
      await waitUntil(() => committedMessages(infra.kafka, `${env.CRM_TOPIC_NAMESPACE}.crm-ingest`, inputTopics), (n) => n === load.length + probes.length, 120_000);
      expect(ingest.lines.some((l) => l.msg === 'ClickHouse refused rows that passed validation; dead-lettered as storage_rejected')).toBe(true);

      const scoring = spawnService('services/scoring/src/main.ts', env);
      const publisher = spawnService('services/publisher/src/main.ts', env);
      services.push(scoring, publisher);
      // Scoring fails on the refused profile and says so, by code.
      const failure = await scoring.waitForLog((l) => JSON.stringify(l).includes('VIOLATED_CONSTRAINT'), 120_000);
      expect(JSON.stringify(failure)).toContain('469');
      // Then without the constraint it scores and the publisher sends what it decided.
      await clickhouse.command({ query: 'ALTER TABLE customer_profiles DROP CONSTRAINT pii_probe' });
      await scoring.waitForLog((l) => l.msg === 'scoring run done' && Number(l.buyers) > 0, 120_000);
      await waitUntil(
        async () => (await Promise.all([SEGMENT_CHANGES, CUSTOMER_AT_RISK].map((s) => publisherBacklog(clickhouse, s)))).every((b) => b.marks > 0 && b.pending === 0),
        (done) => done,
        120_000,
      );
      expect(services.every(isRunning)).toBe(true);
    } finally {
      for (const s of services) await s.kill('SIGTERM');
      await clickhouse.close();
    }

    // Every line each service wrote, stdout and stderr alike.
    const leaks: string[] = [];
    for (const s of services) {
      const text = [...s.lines.map((l) => JSON.stringify(l)), s.stderr()].join('\n');
      for (const value of personal) if (text.includes(value)) leaks.push(`${value} in: ${text.split('\n').find((line) => line.includes(value))!.slice(0, 600)}`);
    }
    expect(services.map((s) => s.lines.length).every((n) => n > 2), String(services.map((s) => s.lines.length))).toBe(true);
    expect(leaks.slice(0, 10)).toEqual([]);
  });
});
