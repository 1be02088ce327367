import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { OrderEvent } from '@crm/events';
import { importCommand, importPlan, parseImportArgs } from '../src/import/command.js';
import { progressWriter } from '../src/import/progress.js';
import { groupRows, readRows } from '../src/import/read-rows.js';
import { formatReport, newReport } from '../src/import/report.js';
import { runImport } from '../src/import/run-import.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const dir = mkdtempSync(join(tmpdir(), 'crm-import-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every unit of a file through the plan the command builds, as the import would send or skip it. */
async function mapFile(argv: string[]) {
  const plan = importPlan(parseImportArgs(argv), 'USD');
  const events: OrderEvent[] = [];
  const skipped: { line: number; reason: string; detail?: string }[] = [];
  for await (const unit of groupRows(readRows(plan.file, plan.format), plan.groupBy)) {
    if ('unreadable' in unit) {
      skipped.push({ line: unit.line, reason: 'unreadable line', detail: unit.unreadable });
      continue;
    }
    const mapped = plan.toEvent(unit);
    if (mapped.ok) events.push(mapped.event as OrderEvent);
    else skipped.push({ line: unit.line, reason: mapped.reason, ...(mapped.detail === undefined ? {} : { detail: mapped.detail }) });
  }
  return { events, skipped };
}

type Item = [sku: string, quantity: number, unitPrice: number];
const order = (o: OrderEvent) => ({
  order_id: o.order_id,
  customer_id: o.customer_id,
  status: o.status,
  placed_at: o.placed_at,
  total: o.total,
  refunded_amount: o.refunded_amount,
  items: o.items.map((i): Item => [i.sku, i.quantity, i.unit_price]),
});
const preset = (name: string, file: string, ...more: string[]) => ['orders', '--preset', name, '--file', join(FIXTURES, file), ...more];

describe('shopify preset', () => {
  it('groups line-item rows into orders with items, maps statuses and refunds, honours Cancelled at, skips the guest', async () => {
    const { events, skipped } = await mapFile(preset('shopify', 'shopify-orders.csv'));
    expect(events.map(order)).toEqual([
      { order_id: '#1001', customer_id: 'alice@example.com', status: 'paid', placed_at: '2026-03-17T19:22:00.000Z', total: 57.92, refunded_amount: 0, items: [['MUG-1', 2, 12], ['TEE-M', 1, 25]] },
      { order_id: '#1002', customer_id: 'bob@example.com', status: 'paid', placed_at: '2026-03-18T14:05:00.000Z', total: 97, refunded_amount: 17, items: [['HOOD-L', 1, 60], ['SOCK-2', 2, 8.5], ['CAP-1', 1, 20]] },
      { order_id: '#1003', customer_id: 'carol@example.com', status: 'placed', placed_at: '2026-03-19T21:40:00.000Z', total: 15, refunded_amount: 0, items: [['POST-A2', 1, 15]] },
      { order_id: '#1004', customer_id: 'alice@example.com', status: 'cancelled', placed_at: '2026-03-20T13:00:00.000Z', total: 12, refunded_amount: 0, items: [['MUG-1', 1, 12]] },
      { order_id: '#1006', customer_id: 'dave@example.com', status: 'refunded', placed_at: '2026-03-22T23:30:00.000Z', total: 45, refunded_amount: 45, items: [['LAMP-1', 1, 40], ['BULB-1', 1, 5]] },
      { order_id: '#1007', customer_id: 'bob@example.com', status: 'cancelled', placed_at: '2026-03-23T16:15:00.000Z', total: 20, refunded_amount: 0, items: [['CAP-1', 1, 20]] },
      { order_id: '#1008', customer_id: 'erin@example.com', status: 'placed', placed_at: '2026-03-24T02:15:00.000Z', total: 30, refunded_amount: 0, items: [['POST-A2', 2, 15]] },
      { order_id: '#1009', customer_id: 'carol@example.com', status: 'paid', placed_at: '2026-03-25T12:00:00.000Z', total: 44, refunded_amount: 0, items: [['MUG-L', 1, 14], ['TEE-M', 1, 25]] },
    ]);
    expect(skipped).toEqual([{ line: 9, reason: 'no customer: guest checkout without an email' }]);
    const [first, , third] = events;
    // occurred_at is the latest moment the export names: paid a minute after it was placed; cancelled that evening.
    expect(first!.occurred_at).toBe('2026-03-17T19:23:10.000Z');
    expect(events[5]!.occurred_at).toBe('2026-03-23T23:00:00.000Z');
    expect(first!.items.map((i) => i.category)).toEqual(['Acme Mugs', 'Acme Apparel']);
    expect([first!.currency, first!.channel, first!.payment_method]).toEqual(['USD', 'web', 'credit']);
    expect(third!.payment_method).toBe('prepaid');
    expect([events[7]!.channel, events[7]!.payment_method]).toEqual(['store', 'cash']);
  });

  it('--map overrides one column and keeps the rest of the preset', async () => {
    const file = join(dir, 'shopify-id.csv');
    writeFileSync(file, 'Name,Customer Ref,Email,Financial Status,Total,Created at,Lineitem quantity,Lineitem price,Lineitem sku\n#1,C-9,a@x.io,paid,10,2026-01-02 03:04:05 +0000,1,10,S\n#1,,,,,,,,\n');
    const { events } = await mapFile(['orders', '--preset', 'shopify', '--file', file, '--map', 'customer_id=Customer Ref']);
    expect(events.map(order)).toEqual([{ order_id: '#1', customer_id: 'C-9', status: 'paid', placed_at: '2026-01-02T03:04:05.000Z', total: 10, refunded_amount: 0, items: [['S', 1, 10]] }]);
  });
});

describe('woocommerce preset', () => {
  it('reads REST API orders: customer id or billing email, line_items, refunds summed, statuses mapped', async () => {
    const { events, skipped } = await mapFile(preset('woocommerce', 'woocommerce-orders.ndjson'));
    expect(events.map(order)).toEqual([
      { order_id: '727', customer_id: '12', status: 'delivered', placed_at: '2026-04-02T09:15:00.000Z', total: 54.5, refunded_amount: 0, items: [['VASE-1', 1, 35], ['94', 2, 7.25]] },
      { order_id: '728', customer_id: 'gus@example.com', status: 'paid', placed_at: '2026-04-03T18:40:00.000Z', total: 20, refunded_amount: 0, items: [['NAP-4', 4, 5]] },
      { order_id: '729', customer_id: '12', status: 'refunded', placed_at: '2026-04-04T08:00:00.000Z', total: 30, refunded_amount: 30, items: [['RUN-1', 1, 30]] },
      { order_id: '730', customer_id: '15', status: 'delivered', placed_at: '2026-04-06T14:00:00.000Z', total: 80, refunded_amount: 20, items: [['BLNK-1', 1, 50], ['CUSH-2', 2, 15]] },
      { order_id: '732', customer_id: '15', status: 'cancelled', placed_at: '2026-04-08T20:00:00.000Z', total: 12, refunded_amount: 0, items: [['CNDL-1', 1, 12]] },
      { order_id: '733', customer_id: '12', status: 'placed', placed_at: '2026-04-10T07:30:00.000Z', total: 9.99, refunded_amount: 0, items: [['SLV-3', 3, 3.33]] },
      { order_id: '735', customer_id: 'gus@example.com', status: 'cancelled', placed_at: '2026-04-12T15:00:00.000Z', total: 15, refunded_amount: 0, items: [['CUSH-2', 1, 15]] },
    ]);
    expect(skipped).toEqual([
      { line: 5, reason: 'no customer: guest order (customer_id 0) without a billing email' },
      { line: 8, reason: 'unknown status (not one of pending, on-hold, processing, completed, cancelled, failed, refunded)', detail: 'checkout-draft' },
    ]);
    expect(events[0]!.occurred_at).toBe('2026-04-05T10:00:00.000Z');
    expect(events[5]!.payment_method).toBe('cash');
  });
});

describe('magento preset', () => {
  it('reads the order grid: labels as statuses, prices with symbols and thousands separators, Total Refunded', async () => {
    const { events, skipped } = await mapFile(preset('magento', 'magento-orders.csv'));
    expect(events.map(order)).toEqual([
      { order_id: '000000101', customer_id: 'ivy@example.com', status: 'delivered', placed_at: '2026-04-03T10:12:45.000Z', total: 120, refunded_amount: 0, items: [] },
      { order_id: '000000102', customer_id: 'jack@example.com', status: 'paid', placed_at: '2026-04-04T15:05:10.000Z', total: 45.5, refunded_amount: 0, items: [] },
      { order_id: '000000103', customer_id: 'ivy@example.com', status: 'refunded', placed_at: '2026-04-05T09:00:00.000Z', total: 60, refunded_amount: 60, items: [] },
      { order_id: '000000104', customer_id: 'jack@example.com', status: 'cancelled', placed_at: '2026-04-06T12:30:00.000Z', total: 30, refunded_amount: 0, items: [] },
      { order_id: '000000106', customer_id: 'kim@example.com', status: 'placed', placed_at: '2026-04-08T00:00:00.000Z', total: 15, refunded_amount: 0, items: [] },
      { order_id: '000000108', customer_id: 'ivy@example.com', status: 'delivered', placed_at: '2026-04-10T18:45:30.000Z', total: 80, refunded_amount: 20, items: [] },
      { order_id: '000000109', customer_id: 'kim@example.com', status: 'placed', placed_at: '2026-04-11T13:15:00.000Z', total: 1250, refunded_amount: 0, items: [] },
    ]);
    // Each grid row spans three lines (Purchase Point holds newlines): lines are where a record starts.
    expect(skipped).toEqual([
      { line: 14, reason: expect.stringMatching(/^unknown status/), detail: 'Suspected Fraud' },
      { line: 20, reason: 'no customer: no Customer Email' },
    ]);
    expect(events[3]!.payment_method).toBe('prepaid');
  });
});

describe('online-retail preset', () => {
  it('groups invoice lines, totals them exactly, takes C invoices as cancellations, skips blank CustomerID', async () => {
    const { events, skipped } = await mapFile(preset('online-retail', 'online-retail.csv'));
    expect(events.map(order)).toEqual([
      { order_id: '536365', customer_id: '17850', status: 'delivered', placed_at: '2010-12-01T08:26:00.000Z', total: 57.64, refunded_amount: 0, items: [['85123A', 6, 2.55], ['71053', 6, 3.39], ['84406B', 8, 2.75]] },
      { order_id: '536366', customer_id: '17850', status: 'delivered', placed_at: '2010-12-01T08:28:00.000Z', total: 22.2, refunded_amount: 0, items: [['22633', 6, 1.85], ['22632', 6, 1.85]] },
      { order_id: '536367', customer_id: '13047', status: 'delivered', placed_at: '2010-12-01T08:34:00.000Z', total: 66.68, refunded_amount: 0, items: [['84879', 32, 1.69], ['22745', 6, 2.1]] },
      { order_id: 'C536379', customer_id: '14527', status: 'cancelled', placed_at: '2010-12-01T09:41:00.000Z', total: 27.5, refunded_amount: 0, items: [['D', 1, 27.5]] },
      { order_id: '536381', customer_id: '15311', status: 'delivered', placed_at: '2010-12-01T09:41:00.000Z', total: 122.5, refunded_amount: 0, items: [['22139', 23, 4.25], ['84854', 5, 4.95]] },
      { order_id: 'C536383', customer_id: '15311', status: 'cancelled', placed_at: '2010-12-01T09:49:00.000Z', total: 4.65, refunded_amount: 0, items: [['35004C', 1, 4.65]] },
      { order_id: '536592', customer_id: '12583', status: 'delivered', placed_at: '2010-12-01T17:06:00.000Z', total: 5.9, refunded_amount: 0, items: [['22086', 2, 2.95]] },
    ]);
    expect(skipped).toEqual([
      { line: 12, reason: 'no customer: blank CustomerID' },
      { line: 14, reason: 'no customer: blank CustomerID' },
    ]);
    expect(events.every((e) => e.currency === 'USD' && e.items.every((i) => i.category === 'uncategorized'))).toBe(true);
    const gbp = await mapFile(preset('online-retail', 'online-retail.csv', '--currency', 'gbp'));
    expect(new Set(gbp.events.map((e) => e.currency))).toEqual(new Set(['GBP']));
  });
});

describe('event ids', () => {
  it('are the same for the same content on every read, and differ when an order changes state', async () => {
    const a = await mapFile(preset('shopify', 'shopify-orders.csv'));
    const b = await mapFile(preset('shopify', 'shopify-orders.csv'));
    expect(b.events.map((e) => e.event_id)).toEqual(a.events.map((e) => e.event_id));
    expect(new Set(a.events.map((e) => e.event_id)).size).toBe(a.events.length);
    const file = join(dir, 'refunded-later.csv');
    const one = 'Name,Email,Financial Status,Total,Refunded Amount,Created at\n#1,a@x.io,paid,10,0,2026-01-02T00:00:00Z\n';
    writeFileSync(file, one);
    const before = (await mapFile(['orders', '--preset', 'shopify', '--file', file])).events[0]!;
    writeFileSync(file, one.replace('paid,10,0', 'partially_refunded,10,4'));
    const after = (await mapFile(['orders', '--preset', 'shopify', '--file', file])).events[0]!;
    expect(after.event_id).not.toBe(before.event_id);
    expect([after.order_id, after.refunded_amount]).toEqual(['#1', 4]);
  });
});

describe('plain orders (no preset)', () => {
  it('reads our field names, validates with the ingest validator, and names the line and reason of each skip', async () => {
    const file = join(dir, 'plain.csv');
    writeFileSync(
      file,
      [
        'Customer,Invoice,Date,Amount,State',
        'c1,i1,20260101,10,paid',
        'c1,i2,2026-13-45,10,paid',
        'c2,i3,20260102,,paid',
        'c3,i4,20260103,10.12345,paid',
        'c4,i5,20260104,10,lost',
        ',i6,20260105,10,paid',
      ].join('\n'),
    );
    const { events, skipped } = await mapFile(['orders', '--file', file, '--map', 'customer_id=Customer,order_id=Invoice,placed_at=Date,total=Amount,status=State']);
    expect(events.map(order)).toEqual([{ order_id: 'i1', customer_id: 'c1', status: 'paid', placed_at: '2026-01-01T00:00:00.000Z', total: 10, refunded_amount: 0, items: [] }]);
    expect(skipped).toEqual([
      { line: 3, reason: 'placed_at is not a date', detail: '2026-13-45' },
      { line: 4, reason: 'missing total (column Amount)' },
      { line: 5, reason: 'invalid_amount at total', detail: expect.any(String) },
      { line: 6, reason: expect.stringMatching(/^unknown status/), detail: 'lost' },
      { line: 7, reason: 'no customer_id' },
    ]);
  });

  it('refuses a --map field that orders do not have, naming the fields', () => {
    expect(() => importPlan(parseImportArgs(['orders', '--file', join(FIXTURES, 'shopify-orders.csv'), '--map', 'customer=Email']), 'USD')).toThrow(/customer is not a field of orders; fields: customer_id/);
  });
});

describe('clicks, tickets and surveys', () => {
  it('map rows by the schema: enum values in any case, blank optionals null, scale by kind, deterministic ids', async () => {
    const clicks = join(dir, 'clicks.csv');
    writeFileSync(clicks, 'ts,visitor,customer,session,action,page\n2026-02-01T10:00:00Z,a1,,s1,Page View,/home\n2026-02-01T10:01:00Z,,c9,s2,login,\n2026-02-01T10:02:00Z,,,s3,search,\n');
    const plan = importPlan(parseImportArgs(['clicks', '--file', clicks, '--map', 'occurred_at=ts,anonymous_id=visitor,customer_id=customer,session_id=session,type=action,url=page']), 'USD');
    const out = [];
    for await (const unit of groupRows(readRows(plan.file, plan.format), plan.groupBy)) if (!('unreadable' in unit)) out.push(plan.toEvent(unit));
    expect(out[0]).toMatchObject({ ok: true, key: 'a1', event: { anonymous_id: 'a1', customer_id: null, type: 'page_view', url: '/home', occurred_at: '2026-02-01T10:00:00.000Z' } });
    // A logged-in click without a device id: the customer is the visitor (and the Kafka key).
    expect(out[1]).toMatchObject({ ok: true, key: 'c9', event: { anonymous_id: 'c9', customer_id: 'c9', type: 'login', url: null } });
    expect(out[2]).toEqual({ ok: false, reason: 'missing anonymous_id (column visitor)' });

    const surveys = join(dir, 'surveys.ndjson');
    writeFileSync(surveys, '{"response_id":"r1","customer_id":"c1","kind":"NPS","score":9,"occurred_at":"2026-02-02T00:00:00Z"}\n{"response_id":"r2","customer_id":"c1","kind":"csat","score":9,"occurred_at":"2026-02-02T00:00:00Z"}\nnot json\n');
    const s = await mapFile(['surveys', '--file', surveys]);
    expect(s.events).toEqual([expect.objectContaining({ response_id: 'r1', kind: 'nps', score: 9, scale_max: 10, expectation: null, comment: null })]);
    expect(s.skipped).toEqual([
      { line: 2, reason: 'invalid_value at score', detail: expect.stringMatching(/outside the scale/) },
      { line: 3, reason: 'unreadable line', detail: expect.stringMatching(/^not JSON/) },
    ]);
    const again = await mapFile(['surveys', '--file', surveys]);
    expect(again.events[0]!.event_id).toBe(s.events[0]!.event_id);

    const tickets = join(dir, 'tickets.csv');
    writeFileSync(tickets, 'ticket_id,customer_id,status,category,priority,channel,occurred_at\nT1,c1,Opened,Complaint,High,Email,2026-02-03T09:00:00+01:00\nT2,,opened,question,low,chat,2026-02-03T09:00:00Z\n');
    const t = await mapFile(['tickets', '--file', tickets]);
    expect(t.events).toEqual([expect.objectContaining({ ticket_id: 'T1', status: 'opened', category: 'complaint', priority: 'high', channel: 'email', occurred_at: '2026-02-03T08:00:00.000Z' })]);
    expect(t.skipped).toEqual([{ line: 3, reason: 'missing customer_id (column customer_id)' }]);
  });
});

describe('dry run and report', () => {
  it('counts rows, events and skips by reason with their first lines, sending nothing', async () => {
    const args = parseImportArgs(preset('online-retail', 'online-retail.csv', '--dry-run'));
    const report = newReport('orders', 'online-retail', args.file, true);
    const marks = await runImport(importPlan(args, 'USD'), undefined, report);
    expect(marks).toBeUndefined();
    expect(report).toMatchObject({
      rows: 15,
      events: 7,
      sent: 0,
      skipped: { events: 2, rows: 3, reasons: [{ reason: 'no customer: blank CustomerID', events: 2, rows: 3, examples: [{ line: 12 }, { line: 14 }] }] },
    });
    expect(formatReport(report)).toEqual([
      `dry run: 15 rows read from ${args.file} (preset online-retail): 7 orders valid, nothing sent; skipped 2 orders (3 rows)`,
      '  skipped 2 × no customer: blank CustomerID [3 rows]: line 12, line 14',
    ]);
  });
});

describe('values', () => {
  it('reads instants in the layouts exports write', async () => {
    const { parseDate } = await import('../src/import/values.js');
    expect(parseDate('2026-03-17 14:22:00 -0500')).toBe('2026-03-17T19:22:00.000Z');
    expect(parseDate('2026-04-02T09:15:00')).toBe('2026-04-02T09:15:00.000Z');
    expect(parseDate('20260101')).toBe('2026-01-01T00:00:00.000Z');
    expect(parseDate('Apr 7, 2026 11:59:59 PM')).toBe('2026-04-07T23:59:59.000Z');
    expect(parseDate('Apr 8, 2026 12:00:00 AM')).toBe('2026-04-08T00:00:00.000Z');
    expect(parseDate('12/1/2010 8:26', 'month-first')).toBe('2010-12-01T08:26:00.000Z');
    expect(parseDate('12/1/2010 8:26', 'day-first')).toBe('2010-01-12T08:26:00.000Z');
    // Ambiguous without a preset that says which comes first; days that do not exist are no dates.
    expect(parseDate('12/1/2010 8:26')).toBeUndefined();
    expect(parseDate('2026-02-30')).toBeUndefined();
    expect(parseDate('yesterday')).toBeUndefined();
  });

  it('reads amounts with symbols and thousands separators, and refuses a decimal comma', async () => {
    const { parseAmount, roundAmount } = await import('../src/import/values.js');
    expect(['29.35', '-5.00', '$1,250.00', '€ 12.00', '12.00 EUR', '-$3'].map(parseAmount)).toEqual([29.35, -5, 1250, 12, 12, -3]);
    expect(['1.234,50', '12,5', 'abc', '', '$'].map(parseAmount)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(roundAmount(6 * 2.55)).toBe(15.3);
  });
});

describe('crm import command', () => {
  const settings = { kafka: { KAFKA_BROKERS: '127.0.0.1:1' }, namespace: '', topics: { orders: 'o', clicks: 'c', tickets: 't', surveys: 's', deadLetter: 'd' }, reportingCurrency: 'USD', ingestGroup: 'g' };

  it('stops before reading a CSV that lacks the columns the preset reads, naming them and the file’s columns', async () => {
    const said: string[] = [];
    const code = await importCommand(['orders', '--preset', 'shopify', '--file', join(FIXTURES, 'magento-orders.csv'), '--dry-run'], settings, (l) => said.push(l));
    expect(code).toBe(2);
    expect(said[0]).toMatch(/magento-orders\.csv has no column Email, no Created at, no Total, no Name \(its columns: ID, Purchase Point, /);
  });

  it('refuses a --file that is not a file before anything else', async () => {
    const said: string[] = [];
    expect(await importCommand(['orders', '--file', join(dir, 'absent.csv'), '--dry-run'], settings, (l) => said.push(l))).toBe(2);
    expect(said[0]).toMatch(/^crm: --file: .*absent\.csv is not a file/);
  });

  it('writes the report as JSON with --report in a dry run, without a broker', async () => {
    const reportFile = join(dir, 'report.json');
    const said: string[] = [];
    const code = await importCommand(['orders', '--preset', 'woocommerce', '--file', join(FIXTURES, 'woocommerce-orders.ndjson'), '--dry-run', '--report', reportFile], settings, (l) => said.push(l));
    expect(code).toBe(0);
    expect(JSON.parse(readFileSync(reportFile, 'utf8'))).toMatchObject({ stream: 'orders', preset: 'woocommerce', dryRun: true, rows: 9, events: 7, sent: 0, skipped: { events: 2, rows: 2 } });
    expect(said[0]).toMatch(/^dry run: 9 rows read from .* 7 orders valid, nothing sent; skipped 2 orders \(2 rows\)$/);
  });
});

describe('progress', () => {
  it('rewrites one line on a terminal and writes a plain line at most every interval otherwise', () => {
    const written: string[] = [];
    const fake = (isTTY: boolean) => ({ isTTY, write: (s: string) => written.push(s) }) as unknown as NodeJS.WriteStream;
    const tty = progressWriter(fake(true));
    tty.update('a');
    tty.update('b');
    tty.done();
    expect(written).toEqual(['\r\x1b[Ka', '\r\x1b[Kb', '\n']);
    written.length = 0;
    const plain = progressWriter(fake(false), 60_000);
    plain.update('a');
    plain.update('b');
    plain.done();
    expect(written).toEqual(['a\n']);
  });
});

describe('docs/INGEST.md', () => {
  it('names every status each preset maps, in the row of the status it maps to', async () => {
    const { ORDER_PRESETS } = await import('../src/import/presets.js');
    const doc = readFileSync(join(FIXTURES, '../../../../docs/INGEST.md'), 'utf8');
    const header = doc.split('\n').find((l) => l.startsWith('| preset | → placed |'))!;
    const targets = header.split('|').slice(2, -2).map((c) => c.trim().replace('→ ', ''));
    for (const [name, preset] of Object.entries(ORDER_PRESETS)) {
      if (!('statuses' in preset)) continue;
      const cells = doc.split('\n').find((l) => l.startsWith(`| \`${name}\` (`))!.split('|').slice(2, -2).map((c) => c.toLowerCase());
      for (const [theirs, ours] of Object.entries(preset.statuses)) {
        expect(cells[targets.indexOf(ours)], `${name}: ${theirs} → ${ours}`).toMatch(new RegExp(`(^|[ ,/])${theirs}([ ,/(;]|$)`));
      }
    }
  });
});

describe('a platform export imported without its preset', () => {
  it('is recognised by its columns, and the user is told which preset reads it', async () => {
    const { looksLike } = await import('../src/import/command.js');
    const { csvHeader } = await import('../src/import/read-rows.js');
    expect(looksLike(await csvHeader(join(FIXTURES, 'shopify-orders.csv')))).toBe('shopify');
    expect(looksLike(await csvHeader(join(FIXTURES, 'magento-orders.csv')))).toBe('magento');
    expect(looksLike(await csvHeader(join(FIXTURES, 'online-retail.csv')))).toBe('online-retail');
    expect(looksLike(['customer_id', 'placed_at', 'total'])).toBeUndefined();
  });
});
