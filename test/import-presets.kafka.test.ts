import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse } from '@crm/clickhouse';
import { loadIngestConfig, startIngest, type IngestService } from '@crm/ingest';
import { REPO_ROOT, createLogger } from '@crm/runtime';
import { useTestInfrastructure } from './support/harness.js';
import { runCli } from './support/cli.js';
import { createTestTopics } from './support/kafka.js';
import { selectRows } from './support/queries.js';

const infra = useTestInfrastructure();
const FIXTURES = join(REPO_ROOT, 'packages/cli/test/fixtures');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'crm-import-presets-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Report {
  rows: number;
  events: number;
  sent: number;
  skipped: { events: number; rows: number; reasons: { reason: string; events: number; examples: { line: number }[] }[] };
  ingest?: { accepted: number; deadLettered: number; reasons: { code: string; events: number; examples: { line: number; message: string }[] }[] };
}

/**
 * Hand-computed from the fixtures (packages/cli/test/fixtures): the orders each makes, net revenue per
 * customer in USD (purchases: not cancelled, not fully refunded; total − refunded), line items and units.
 */
const PRESETS = [
  {
    preset: 'shopify',
    file: 'shopify-orders.csv',
    args: [],
    rows: 14,
    customers: ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com', 'erin@example.com'],
    orders: { paid: 3, placed: 2, cancelled: 2, refunded: 1 },
    revenue: { 'alice@example.com': 57.92, 'bob@example.com': 80, 'carol@example.com': 59, 'erin@example.com': 30 },
    items: 13,
    units: 16,
    skipped: [{ reason: 'no customer: guest checkout without an email', lines: [9] }],
  },
  {
    preset: 'woocommerce',
    file: 'woocommerce-orders.ndjson',
    args: [],
    rows: 9,
    customers: ['12', '15', 'gus@example.com'],
    orders: { delivered: 2, paid: 1, refunded: 1, cancelled: 2, placed: 1 },
    revenue: { '12': 64.49, 'gus@example.com': 20, '15': 60 },
    items: 9,
    units: 16,
    skipped: [
      { reason: 'no customer: guest order (customer_id 0) without a billing email', lines: [5] },
      { reason: 'unknown status (not one of pending, on-hold, processing, completed, cancelled, failed, refunded)', lines: [8] },
    ],
  },
  {
    preset: 'magento',
    file: 'magento-orders.csv',
    args: [],
    rows: 9,
    customers: ['ivy@example.com', 'jack@example.com', 'kim@example.com'],
    orders: { delivered: 2, paid: 1, refunded: 1, cancelled: 1, placed: 2 },
    revenue: { 'ivy@example.com': 180, 'jack@example.com': 45.5, 'kim@example.com': 1265 },
    items: 0,
    units: 0,
    skipped: [
      { reason: 'unknown status (not one of pending, pending_payment, pending payment, holded, on hold, processing, complete, closed, canceled)', lines: [14] },
      { reason: 'no customer: no Customer Email', lines: [20] },
    ],
  },
  {
    // The data set is in pounds sterling; ingest converts at CRM_FX_RATES' GBP rate, 1.25 here.
    preset: 'online-retail',
    file: 'online-retail.csv',
    args: ['--currency', 'GBP'],
    rows: 15,
    customers: ['12583', '13047', '14527', '15311', '17850'],
    orders: { delivered: 5, cancelled: 2 },
    revenue: { '17850': 79.84 * 1.25, '13047': 66.68 * 1.25, '15311': 122.5 * 1.25, '12583': 5.9 * 1.25 },
    items: 12,
    units: 102,
    skipped: [{ reason: 'no customer: blank CustomerID', lines: [12, 14] }],
  },
] as const;

describe('crm import --preset: platform exports through Kafka and ingest into ClickHouse', () => {
  it('imports each preset fixture with the hand-computed orders, revenue and items; a second import changes nothing', { timeout: 240_000 }, async () => {
    const env = infra.env({ CRM_FX_RATES: '{"GBP":1.25}' });
    await createTestTopics(infra.kafka, env.CRM_TOPIC_NAMESPACE);
    const ingest: IngestService = await startIngest(loadIngestConfig(env), createLogger('ingest', 'warn'));
    const clickhouse = createClickHouse(loadIngestConfig(env));
    const importFile = async (argv: string[], name: string) => {
      const report = join(dir, `${name}.json`);
      const run = await runCli(['import', ...argv, '--wait', '--report', report], env);
      expect(run.code, run.stderr).toBe(0);
      return { stderr: run.stderr, report: JSON.parse(readFileSync(report, 'utf8')) as Report };
    };
    const state = async () => ({
      events: await selectRows<{ n: string }>(clickhouse, 'SELECT uniqExact(event_id) AS n FROM orders'),
      orders: await selectRows<{ order_id: string; status: string; n_items: number; n_units: number }>(
        clickhouse,
        `SELECT order_id, status, length(items) AS n_items, toUInt32(arraySum(i -> tupleElement(i, 'quantity'), items)) AS n_units
         FROM orders_current ORDER BY order_id`,
      ),
      revenue: await selectRows<{ customer_id: string; revenue: number; purchases: string }>(
        clickhouse,
        'SELECT customer_id, toFloat64(sum(value)) AS revenue, count() AS purchases FROM purchases GROUP BY customer_id ORDER BY customer_id',
      ),
    });
    try {
      for (const p of PRESETS) {
        const { report, stderr } = await importFile(['orders', '--preset', p.preset, '--file', join(FIXTURES, p.file), ...p.args], p.preset);
        const orders = Object.values(p.orders).reduce((a, b) => a + b, 0);
        expect(report, stderr).toMatchObject({ rows: p.rows, events: orders, sent: orders, ingest: { accepted: orders, deadLettered: 0, reasons: [] } });
        expect(report.skipped.reasons.map((r) => ({ reason: r.reason, lines: r.examples.map((e) => e.line) }))).toEqual(p.skipped);
        expect(stderr).toContain(`ingest accepted ${orders} of ${orders} sent orders; dead-lettered 0`);
      }
      const first = await state();
      for (const p of PRESETS) {
        const mine = await selectRows<{ status: string; orders: string; n_items: string; n_units: string }>(
          clickhouse,
          `SELECT status, count() AS orders, sum(length(items)) AS n_items, sum(arraySum(i -> tupleElement(i, 'quantity'), items)) AS n_units
           FROM orders_current WHERE customer_id IN {customers:Array(String)} GROUP BY status`,
          { customers: p.customers },
        );
        expect(Object.fromEntries(mine.map((r) => [r.status, Number(r.orders)])), p.preset).toEqual(p.orders);
        expect([mine.reduce((n, r) => n + Number(r.n_items), 0), mine.reduce((n, r) => n + Number(r.n_units), 0)], p.preset).toEqual([p.items, p.units]);
        const revenue = first.revenue.filter((r) => (p.customers as readonly string[]).includes(r.customer_id));
        expect(Object.fromEntries(revenue.map((r) => [r.customer_id, r.revenue])), p.preset).toEqual(
          Object.fromEntries(Object.entries(p.revenue).map(([c, v]) => [c, expect.closeTo(v, 4)])),
        );
      }
      const orders = PRESETS.reduce((n, p) => n + Object.values(p.orders).reduce((a, b) => a + b, 0), 0);
      expect([first.orders.length, Number(first.events[0]!.n)]).toEqual([orders, orders]);

      // The same files again: every event is accepted (de-duplicated), and nothing in ClickHouse changes.
      for (const p of PRESETS) {
        const { report } = await importFile(['orders', '--preset', p.preset, '--file', join(FIXTURES, p.file), ...p.args], `${p.preset}-again`);
        expect(report.ingest).toEqual({ accepted: report.sent, deadLettered: 0, reasons: [] });
      }
      expect(await state()).toEqual(first);
    } finally {
      await clickhouse.close();
      await ingest.stop();
    }
  });

  it('imports clicks, tickets and surveys by their schema, reports ingest’s dead letters by reason and line, and a second import changes nothing', { timeout: 180_000 }, async () => {
    const env = infra.env();
    await createTestTopics(infra.kafka, env.CRM_TOPIC_NAMESPACE);
    const ingest: IngestService = await startIngest(loadIngestConfig(env), createLogger('ingest', 'warn'));
    const clickhouse = createClickHouse(loadIngestConfig(env));
    const files = {
      clicks: ['Time,Visitor,Customer,Session,Event,Page', '2026-05-01T10:00:00Z,v1,,s1,Page View,/', '2026-05-01T10:01:00Z,v1,c1,s1,login,/account', '2026-05-01T10:02:00Z,v2,,s2,add_to_cart,/p/1', '2026-05-01T10:03:00Z,,,s3,search,'],
      tickets: ['ticket_id,customer_id,status,category,priority,channel,occurred_at', 'T1,c1,opened,complaint,high,email,2026-05-02T09:00:00Z', 'T1,c1,resolved,complaint,high,email,2026-05-03T09:00:00Z', 'T2,c2,opened,question,low,chat,2099-01-01T00:00:00Z'],
      surveys: ['response_id,customer_id,kind,score,occurred_at,comment', 'R1,c1,nps,3,2026-05-04T00:00:00Z,slow delivery', 'R2,c2,csat,5,2026-05-04T00:00:00Z,'],
    };
    const maps = { clicks: ['--map', 'occurred_at=Time,anonymous_id=Visitor,customer_id=Customer,session_id=Session,type=Event,url=Page'], tickets: [], surveys: [] };
    try {
      const counts = async () =>
        Object.fromEntries(
          await Promise.all(
            (['clicks', 'tickets', 'surveys'] as const).map(async (t) => [t, Number((await selectRows<{ n: string }>(clickhouse, `SELECT uniqExact(event_id) AS n FROM ${t}`))[0]!.n)] as const),
          ),
        );
      const reports: Record<string, Report> = {};
      for (const again of [false, true]) {
        for (const stream of ['clicks', 'tickets', 'surveys'] as const) {
          const file = join(dir, `${stream}.csv`);
          writeFileSync(file, `${files[stream].join('\n')}\n`);
          const reportFile = join(dir, `${stream}-${again}.json`);
          const run = await runCli(['import', stream, '--file', file, ...maps[stream], '--wait', '--report', reportFile], env);
          expect(run.code, run.stderr).toBe(0);
          reports[`${stream}${again ? '-again' : ''}`] = JSON.parse(readFileSync(reportFile, 'utf8')) as Report;
        }
        if (!again) expect(await counts()).toEqual({ clicks: 3, tickets: 2, surveys: 2 });
      }
      expect(reports.clicks).toMatchObject({ rows: 4, events: 3, sent: 3, skipped: { events: 1, reasons: [{ reason: 'missing anonymous_id (column Visitor)', examples: [{ line: 5 }] }] } });
      expect(reports.clicks!.ingest).toEqual({ accepted: 3, deadLettered: 0, reasons: [] });
      // A ticket from the future passes the schema but not ingest's clock check: --wait names its reason and line.
      expect(reports.tickets!.ingest).toEqual({
        accepted: 2,
        deadLettered: 1,
        reasons: [{ code: 'timestamp_out_of_range', events: 1, examples: [{ line: 4, message: expect.stringMatching(/in the future/) }] }],
      });
      expect(reports['tickets-again']!.ingest).toMatchObject({ accepted: 2, deadLettered: 1 });
      expect(reports.surveys!.ingest).toEqual({ accepted: 2, deadLettered: 0, reasons: [] });
      expect(await counts()).toEqual({ clicks: 3, tickets: 2, surveys: 2 });
    } finally {
      await clickhouse.close();
      await ingest.stop();
    }
  });
});
