import { describe, expect, it } from 'vitest';
import { rowObjects } from './encoded.js';
import type { Message } from 'kafkajs';
import { createLogger } from '@crm/runtime';
import { processBatch, type BatchContext, type BatchEffects } from '../src/process-batch.js';
import { STREAMS } from '../src/streams.js';
import { isSuppressed, suppressionCache, type SuppressionList } from '../src/suppression.js';

const clicks = STREAMS.find((s) => s.schema === 'clicks')!;
const list: SuppressionList = { customers: new Set(['c-erased']), anonymous: new Set(['a-erased']) };
const ctx: BatchContext = { now: Date.parse('2026-05-01T00:00:00Z'), maxFutureSkewMs: 0, maxMessageBytes: 1e6, reportingCurrency: 'USD', fxRates: {}, maxDeadLetterSendBytes: 1e6, suppression: list };

const click = (n: number, anonymous: string, customer?: string) =>
  JSON.stringify({
    event_id: `0b7c8d2e-1f4a-4c3b-9d2e-7a6b5c4d3e${String(n).padStart(2, '0')}`,
    occurred_at: '2026-04-30T12:00:00Z',
    schema_version: 1,
    anonymous_id: anonymous,
    ...(customer && { customer_id: customer }),
    session_id: 's',
    type: customer ? 'login' : 'page_view',
  });

describe('isSuppressed', () => {
  it('drops rows naming an erased customer, and anonymous rows of an erased device; not another customer on that device', () => {
    expect(isSuppressed(list, [{ row: { customer_id: 'c-erased' } }])).toBe(true);
    expect(isSuppressed(list, [{ row: { customer_id: null, anonymous_id: 'a-erased' } }])).toBe(true);
    expect(isSuppressed(list, [{ row: { customer_id: 'c-other', anonymous_id: 'a-erased' } }])).toBe(false);
    expect(isSuppressed(list, [{ row: { customer_id: 'c-other', anonymous_id: 'a-other' } }])).toBe(false);
    expect(isSuppressed({ customers: new Set(), anonymous: new Set() }, [{ row: { customer_id: 'c-erased' } }])).toBe(false);
  });
});

describe('processBatch with a suppression list', () => {
  it('writes nothing of an erased customer (click and identity link alike), counts them, and still commits past them', async () => {
    const calls: string[] = [];
    const written: Record<string, unknown>[] = [];
    const effects: BatchEffects = {
      writeRows: async (table, rows) => {
        calls.push(`write ${table} ${rows.count}`);
        written.push(...rowObjects(rows));
      },
      sendDeadLetters: async (messages: Message[]) => void calls.push(`dead-letter ${messages.length}`),
      commit: async (offset) => void calls.push(`commit ${offset}`),
    };
    const values = [click(1, 'a-erased', 'c-erased'), click(2, 'a-erased'), click(3, 'a-other', 'c-other'), click(4, 'a-erased', 'c-other')];
    const result = await processBatch(clicks, { topic: 'crm.clicks.v1', partition: 0, messages: values.map((v, i) => ({ key: Buffer.from('k'), value: Buffer.from(v), offset: String(10 + i), headers: {} })) }, ctx, effects);
    expect(result).toEqual({ accepted: 2, suppressed: 2, deadLettered: [] });
    expect(calls).toEqual(['write clicks 2', 'write identity_links 2', 'commit 14']);
    expect(written.map((r) => r.customer_id)).toEqual(['c-other', 'c-other', 'c-other', 'c-other']);
  });
});

describe('suppressionCache', () => {
  it('reads the list at start, keeps the previous one when a refresh fails, and picks up a new erasure on the next refresh', async () => {
    const abort = new AbortController();
    let reads = 0;
    const lists: (SuppressionList | Error)[] = [{ customers: new Set(['c-1']), anonymous: new Set() }, new Error('ClickHouse away'), { customers: new Set(['c-1', 'c-2']), anonymous: new Set() }];
    const cache = suppressionCache(
      async () => {
        const next = lists[Math.min(reads++, lists.length - 1)]!;
        if (next instanceof Error) throw next;
        return next;
      },
      { refreshMs: 20, logger: createLogger('ingest', 'silent'), signal: abort.signal },
    );
    await cache.start();
    expect([...cache.current().customers]).toEqual(['c-1']);
    while (reads < 2) await new Promise((r) => setTimeout(r, 5));
    expect([...cache.current().customers]).toEqual(['c-1']);
    while (reads < 4) await new Promise((r) => setTimeout(r, 5));
    expect([...cache.current().customers]).toEqual(['c-1', 'c-2']);
    cache.stop();
    abort.abort();
  });
});
