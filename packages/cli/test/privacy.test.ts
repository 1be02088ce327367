import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Message } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerRowCounts, PERSONAL_DATA_TABLES, suppressedIds, type ClickHouseClient } from '@crm/clickhouse';
import { decodeEvent } from '@crm/events';
import { REPO_ROOT } from '@crm/runtime';
import { migratedDatabase, startTestClickHouse, type TestClickHouse } from '../../../test/support/clickhouse.js';
import { seedCustomer } from '../../../test/support/personal-data.js';
import { eraseCustomer, erasureEventId } from '@crm/ingest';

// Access and erasure against the real engine; the announcement's send is the one injected effect
// (test/erasure.kafka.test.ts sends it to a real broker).
let host: TestClickHouse;
let clickhouse: ClickHouseClient;
const DATABASE = 'privacy';
beforeAll(async () => {
  host = await startTestClickHouse();
  ({ clickhouse } = await migratedDatabase(host, DATABASE));
  await seedCustomer(clickhouse, 'c-1', 'a-1');
  await seedCustomer(clickhouse, 'c-2', 'a-2');
}, 120_000);
afterAll(async () => {
  await clickhouse?.close();
  await host?.stop();
});

const crm = (...args: string[]) =>
  spawnSync(join(REPO_ROOT, 'bin/crm'), args, {
    encoding: 'utf8',
    env: { ...process.env, CLICKHOUSE_URL: host.url, CLICKHOUSE_USER: host.user, CLICKHOUSE_PASSWORD: host.password, CLICKHOUSE_DATABASE: DATABASE, NODE: process.execPath },
  });

describe('crm export customer', () => {
  it('prints one JSON document with every table that holds the customer, their stitched ids and nothing of others', () => {
    const run = crm('export', 'customer', 'c-1');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const doc = JSON.parse(run.stdout) as { customer_id: string; anonymous_ids: string[]; tables: Record<string, Record<string, unknown>[]> };
    expect(doc.customer_id).toBe('c-1');
    expect(doc.anonymous_ids).toEqual(['a-1']);
    expect(Object.keys(doc.tables)).toEqual(PERSONAL_DATA_TABLES.map((t) => t.table));
    expect(doc.tables.clicks!.map((c) => [c.anonymous_id, c.customer_id])).toEqual(expect.arrayContaining([['a-1', null], ['a-1', 'c-1']]));
    expect(doc.tables.surveys![0]!.comment).toBe('slow delivery');
    // Nothing of the other customer: their ids alone or inside their own (order o-c-2, …); a random
    // UUID like …9c2a-2039… holds "a-2" too, so the id must not touch other hex digits.
    expect(run.stdout).not.toMatch(/(?<![0-9a-f])[ac]-2(?![0-9a-f])/);
  });

  it('refuses a missing id, and erase a bad --settle-seconds, with their usage', () => {
    const erase = crm('erase', 'customer', 'c-1', '--settle-seconds', 'soon');
    expect(erase.status).toBe(2);
    expect(erase.stderr).toContain('--settle-seconds: expected 0 to 3600 seconds, got soon');
    const run = crm('export', 'customer');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('export takes: export customer <customer_id>');
  });
});

describe('eraseCustomer', () => {
  it('suppresses the customer and their stitched ids, deletes every row of them, announces once, and leaves others alone', async () => {
    const others = await customerRowCounts(clickhouse, 'c-2', ['a-2']);
    const sent: Message[] = [];
    const at = new Date('2026-07-02T14:03:11.482Z');
    // Ingest stores one more of their events before it re-reads the suppression list: the second pass deletes it.
    const late = async () => {
      await clickhouse.insert({ table: 'clicks', values: [{ event_id: '0b7c8d2e-1f4a-4c3b-9d2e-7a6b5c4d3e01', occurred_at: '2026-03-02T10:00:00.000Z', anonymous_id: 'a-1', customer_id: null, session_id: 's', type: 'page_view' }], format: 'JSONEachRow' });
    };
    const erasure = await eraseCustomer(clickhouse, 'c-1', { announce: async (m) => void sent.push(m), settle: late }, () => at);
    expect(erasure.anonymousIds).toEqual(['a-1']);
    expect(erasure.deleted).toMatchObject({ orders: 1, clicks: 3, identity_links: 1, tickets: 1, surveys: 1 });
    expect(Object.values(await customerRowCounts(clickhouse, 'c-1', ['a-1'])).every((n) => n === 0)).toBe(true);
    expect(await customerRowCounts(clickhouse, 'c-2', ['a-2'])).toEqual(others);
    const suppressed = await suppressedIds(clickhouse);
    expect([...suppressed.customers]).toEqual(['c-1']);
    expect([...suppressed.anonymous]).toEqual(['a-1']);

    expect(sent).toHaveLength(1);
    expect(sent[0]!.key).toBe('c-1');
    const decoded = decodeEvent('customer-erased', sent[0]!.value as Buffer, 'application/json');
    expect(decoded).toEqual({ ok: true, event: { event_id: erasureEventId('c-1', at), customer_id: 'c-1', erased_at: at.toISOString() } });
    // The access request after an erasure finds nothing.
    const run = crm('export', 'customer', 'c-1');
    const doc = JSON.parse(run.stdout) as { tables: Record<string, unknown[]> };
    expect(Object.values(doc.tables).every((rows) => rows.length === 0)).toBe(true);
  });
});
