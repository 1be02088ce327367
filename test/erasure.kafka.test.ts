import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createClickHouse, customerRowCounts, PERSONAL_DATA_TABLES } from '@crm/clickhouse';
import { decodeEvent, type ClickEvent } from '@crm/events';
import { loadIngestConfig } from '@crm/ingest';
import { useTestInfrastructure } from './support/harness.js';
import { runCli } from './support/cli.js';
import { committedMessages, createTestTopics, produce, readTopic, type Outgoing } from './support/kafka.js';
import { asMessages, clickEvent, orderEvent, surveyEvent, ticketEvent } from './support/events.js';
import { spawnService } from './support/processes.js';
import { waitUntil } from './support/wait.js';

const infra = useTestInfrastructure();
const DAY = 86_400_000;

const click = (anonymous: string, customer: string | null, at: number): ClickEvent =>
  clickEvent(anonymous, customer, at, { session: `s-${anonymous}`, type: customer === null ? 'product_view' : 'login', url: `https://shop.example/p/${anonymous}` });

/** A customer with orders, tickets, surveys and two devices whose anonymous browsing is stitched to them by a login. */
function history(customer: string, now: number) {
  const devices = [`${customer}-device-1`, `${customer}-device-2`];
  const clicks = devices.flatMap((d, i) => [click(d, null, now - (10 + i) * DAY), click(d, null, now - (9 + i) * DAY), click(d, customer, now - (8 + i) * DAY)]);
  return {
    devices,
    orders: [orderEvent(customer, now - 300 * DAY, 80), orderEvent(customer, now - 100 * DAY, 120), orderEvent(customer, now - 5 * DAY, 60)],
    clicks,
    tickets: [ticketEvent(customer, `${customer}-t1`, 'opened', 'complaint', now - 4 * DAY)],
    surveys: [{ ...surveyEvent(customer, 'nps', 3, 10, now - 3 * DAY), comment: `${customer} says the parcel arrived broken` }],
  };
}

const clickMessages = (clicks: readonly ClickEvent[]): Outgoing[] => clicks.map((c) => ({ key: c.customer_id ?? c.anonymous_id, value: JSON.stringify(c) }));

describe('crm erase customer', () => {
  it('removes a customer with orders, stitched clicks, tickets and surveys from every table (by command and by request), suppresses their old and new events, and announces it', { timeout: 180_000 }, async () => {
    const env = infra.env({ INGEST_SUPPRESSION_REFRESH_SECONDS: '1', INGEST_ERASURE_REQUESTS: 'true' });
    const topics = await createTestTopics(infra.kafka, env.CRM_TOPIC_NAMESPACE);
    const group = `${env.CRM_TOPIC_NAMESPACE}.crm-ingest`;
    const inputs = [topics.orders, topics.clicks, topics.tickets, topics.surveys];
    const clickhouse = createClickHouse(loadIngestConfig(env));
    const ingest = spawnService('services/ingest/src/main.ts', env);
    try {
      const running = await ingest.waitForLog((l) => l.msg === 'ingest running', 120_000);
      const now = Date.now();
      const erased = history('erase-me', now);
      const kept = history('keep-me', now);
      const requested = history('request-me', now);
      const send = async (h: ReturnType<typeof history>) => {
        await produce(infra.kafka, topics.orders, asMessages(h.orders));
        await produce(infra.kafka, topics.clicks, clickMessages(h.clicks));
        await produce(infra.kafka, topics.tickets, asMessages(h.tickets));
        await produce(infra.kafka, topics.surveys, asMessages(h.surveys));
      };
      const perCustomer = erased.orders.length + erased.clicks.length + erased.tickets.length + erased.surveys.length;
      await send(erased);
      await send(kept);
      await send(requested);
      await waitUntil(() => committedMessages(infra.kafka, group, inputs), (n) => n === 3 * perCustomer, 60_000);
      // Profiles, history and the outbox hold them too once scored.
      const score = await runCli(['score'], env);
      expect(score.stderr).toContain('scored 3 customers');

      const before = await customerRowCounts(clickhouse, 'erase-me', erased.devices);
      for (const t of PERSONAL_DATA_TABLES) expect(before[t.table], t.table).toBeGreaterThan(0);
      expect(before.clicks).toBe(erased.clicks.length);
      const keptBefore = await customerRowCounts(clickhouse, 'keep-me', kept.devices);

      const exported = await runCli(['export', 'customer', 'erase-me'], env);
      expect(exported.code).toBe(0);
      const doc = JSON.parse(exported.stdout) as { anonymous_ids: string[]; tables: Record<string, unknown[]> };
      expect(doc.anonymous_ids).toEqual([...erased.devices].sort());
      expect(Object.fromEntries(Object.entries(doc.tables).map(([t, rows]) => [t, rows.length]))).toEqual(before);
      expect(exported.stdout).toContain('parcel arrived broken');
      expect(exported.stdout).not.toContain('keep-me');

      const started = Date.now();
      const erase = await runCli(['erase', 'customer', 'erase-me', '--settle-seconds', '2'], env);
      const eraseMs = Date.now() - started;
      expect(erase.code, erase.stderr).toBe(0);
      expect(erase.stderr).not.toContain('parcel');
      console.log(`crm erase customer took ${eraseMs} ms (command included); it reports: ${erase.stderr.split('\n')[0]}`);
      expect(await customerRowCounts(clickhouse, 'erase-me', erased.devices)).toEqual(Object.fromEntries(PERSONAL_DATA_TABLES.map((t) => [t.table, 0])));
      expect(await customerRowCounts(clickhouse, 'keep-me', kept.devices)).toEqual(keptBefore);

      // The same through an erasure request on crm.erasure-requests.v1, as a system automating requests sends it.
      expect((await customerRowCounts(clickhouse, 'request-me', requested.devices)).orders).toBe(requested.orders.length);
      const requestedAt = Date.now();
      await produce(infra.kafka, topics.erasureRequests, [{ key: 'request-me', value: JSON.stringify({ event_id: randomUUID(), customer_id: 'request-me', requested_at: new Date().toISOString() }) }]);
      await waitUntil(() => customerRowCounts(clickhouse, 'request-me', requested.devices), (counts) => Object.values(counts).every((n) => n === 0), 60_000);
      console.log(`an erasure request had removed every row within ${Date.now() - requestedAt} ms of being sent`);
      expect(await customerRowCounts(clickhouse, 'keep-me', kept.devices)).toEqual(keptBefore);

      // Ingest has the new list within its refresh: the old events again, and new ones (an order, an anonymous click on a stitched device).
      await new Promise((r) => setTimeout(r, 2500));
      await send(erased);
      await send(requested);
      await produce(infra.kafka, topics.orders, asMessages([orderEvent('erase-me', now - DAY, 99)]));
      await produce(infra.kafka, topics.clicks, clickMessages([click(erased.devices[0]!, null, now - DAY)]));
      const dropped = 2 * perCustomer + 2;
      await waitUntil(() => committedMessages(infra.kafka, group, inputs), (n) => n === 3 * perCustomer + dropped, 60_000);
      const none = Object.fromEntries(PERSONAL_DATA_TABLES.map((t) => [t.table, 0]));
      expect(await customerRowCounts(clickhouse, 'erase-me', erased.devices)).toEqual(none);
      expect(await customerRowCounts(clickhouse, 'request-me', requested.devices)).toEqual(none);
      expect(await customerRowCounts(clickhouse, 'keep-me', kept.devices)).toEqual(keptBefore);
      const metrics = await (await fetch(`http://127.0.0.1:${String(running.healthPort)}/metrics`)).text();
      const suppressed = [...metrics.matchAll(/crm_ingest_events_total\{topic="[^"]+",outcome="suppressed",reason="erased"\} (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
      expect(suppressed).toBe(dropped);

      const announced = await readTopic(infra.kafka, topics.customerErased, (all) => all.length >= 2, 30_000);
      expect(announced.map((m) => m.key?.toString()).sort()).toEqual(['erase-me', 'request-me']);
      for (const m of announced) expect(decodeEvent('customer-erased', m.value!, 'application/json')).toMatchObject({ ok: true, event: { customer_id: m.key?.toString() } });
    } finally {
      await ingest.kill('SIGTERM');
      await clickhouse.close();
    }
  });
});
