import { describe, expect, it } from 'vitest';
import { processBatch, type BatchContext, type BatchEffects } from '../src/process-batch.js';
import { createHash } from 'node:crypto';
import { CrmError } from '@crm/runtime';
import { recordBytes } from '@crm/kafka';
import type { Message } from 'kafkajs';
import { STREAMS } from '../src/streams.js';
import { rowObjects } from './encoded.js';

const orders = STREAMS.find((s) => s.schema === 'orders')!;

const ctx: BatchContext = { now: Date.parse('2026-05-01T00:00:00Z'), maxFutureSkewMs: 0, maxMessageBytes: 1e6, reportingCurrency: 'USD', fxRates: {}, maxDeadLetterSendBytes: 1_000_000 };
const good = (n: number) =>
  JSON.stringify({
    event_id: `0b7c8d2e-1f4a-4c3b-9d2e-7a6b5c4d3e${String(n).padStart(2, '0')}`,
    occurred_at: '2026-04-30T12:00:00Z',
    schema_version: 1,
    order_id: `o${n}`,
    customer_id: 'c1',
    status: 'paid',
    placed_at: '2026-04-30T12:00:00Z',
    total: 1,
    refunded_amount: 0,
    currency: 'USD',
    channel: 'web',
    payment_method: 'cash',
    items: [],
  });

const batch = (values: string[]) => ({
  topic: 'crm.orders.v1',
  partition: 0,
  messages: values.map((v, i) => ({ key: Buffer.from('c1'), value: Buffer.from(v), offset: String(100 + i), headers: {} })),
});

function recordingEffects(failWrite = false) {
  const calls: string[] = [];
  const effects: BatchEffects = {
    writeRows: async (table, rows) => {
      calls.push(`write ${table} ${rows.count}`);
      if (failWrite) throw new Error('ClickHouse down');
    },
    sendDeadLetters: async (messages) => {
      calls.push(`dead-letter ${messages.length}`);
    },
    commit: async (offset) => {
      calls.push(`commit ${offset}`);
    },
  };
  return { calls, effects };
}

describe('processBatch', () => {
  it('writes good rows, then dead-letters bad ones, then commits the offset after the last message', async () => {
    const { calls, effects } = recordingEffects();
    const result = await processBatch(orders, batch([good(1), 'nope', good(2)]), ctx, effects);
    expect(calls).toEqual(['write orders 2', 'dead-letter 1', 'commit 103']);
    expect(result).toEqual({ accepted: 2, suppressed: 0, deadLettered: [{ code: 'invalid_encoding' }] });
  });

  it('commits nothing when the write fails', async () => {
    const { calls, effects } = recordingEffects(true);
    await expect(processBatch(orders, batch([good(1), 'nope']), ctx, effects)).rejects.toThrow('ClickHouse down');
    expect(calls).toEqual(['write orders 1']);
  });

  it('commits a batch of only bad messages once they are dead-lettered', async () => {
    const { calls, effects } = recordingEffects();
    await processBatch(orders, batch(['x', 'y']), ctx, effects);
    expect(calls).toEqual(['dead-letter 2', 'commit 102']);
  });

  it('keeps the original bytes and says where the message came from', async () => {
    let sent: { value: unknown; headers?: Record<string, unknown> }[] = [];
    const { effects } = recordingEffects();
    await processBatch(orders, batch(['{"bad"']), ctx, { ...effects, sendDeadLetters: async (m: unknown[]) => void (sent = m as typeof sent) });
    expect(sent[0]!.value).toEqual(Buffer.from('{"bad"'));
    expect(sent[0]!.headers).toMatchObject({
      'dlq.source.topic': 'crm.orders.v1',
      'dlq.source.partition': '0',
      'dlq.source.offset': '100',
      'dlq.reason.code': 'invalid_encoding',
    });
  });

  it('isolates the rows ClickHouse refuses by halving the insert, dead-letters them as storage_rejected and stores the rest', async () => {
    const refused = new Set(['o3', 'o6']);
    const writes: number[] = [];
    const stored: string[] = [];
    const letters: Message[] = [];
    const { effects } = recordingEffects();
    const result = await processBatch(orders, batch(Array.from({ length: 8 }, (_, i) => good(i))), ctx, {
      ...effects,
      writeRows: async (_table, rows) => {
        writes.push(rows.count);
        const ids = rowObjects(rows).map((r) => r.order_id as string);
        if (ids.some((id) => refused.has(id))) throw new CrmError('CLICKHOUSE_DATA_REJECTED', 'ClickHouse error 41 (CANNOT_PARSE_DATETIME): bad');
        stored.push(...ids);
      },
      sendDeadLetters: async (m) => void letters.push(...m),
    });
    expect(stored.sort()).toEqual(['o0', 'o1', 'o2', 'o4', 'o5', 'o7']);
    expect(letters.map((l) => [l.headers!['dlq.source.offset'], l.headers!['dlq.reason.code']])).toEqual([['103', 'storage_rejected'], ['106', 'storage_rejected']]);
    expect(String(letters[0]!.headers!['dlq.reason.message'])).toContain('ClickHouse error 41');
    expect(result).toEqual({ accepted: 6, suppressed: 0, deadLettered: [{ code: 'storage_rejected' }, { code: 'storage_rejected' }] });
    expect(writes.length).toBeLessThanOrEqual(2 * 2 * Math.ceil(Math.log2(8)) + 1);
  });

  it('fails the batch, committing nothing, on an error that does not blame the data', async () => {
    const { calls, effects } = recordingEffects();
    const failing = { ...effects, writeRows: async () => Promise.reject(new CrmError('CLICKHOUSE_QUERY_FAILED', 'ClickHouse error 60: no table')) };
    await expect(processBatch(orders, batch([good(1), good(2)]), ctx, failing)).rejects.toThrow('no table');
    expect(calls).toEqual([]);
  });

  it('sends dead letters in requests under the size limit, a burst of small ones and one near the limit alike', async () => {
    const limit = 50_000;
    const sends: Message[][] = [];
    const { effects } = recordingEffects();
    const huge = Buffer.alloc(60_000, 0x7b);
    await processBatch(orders, batch([...Array.from({ length: 500 }, (_, i) => `bad ${i} ${'x'.repeat(200)}`), huge.toString()]), { ...ctx, maxDeadLetterSendBytes: limit }, {
      ...effects,
      sendDeadLetters: async (m) => void sends.push(m),
    });
    expect(sends.flat()).toHaveLength(501);
    expect(sends.length).toBeGreaterThan(2);
    for (const send of sends) expect(send.reduce((n, m) => n + recordBytes(m), 0)).toBeLessThanOrEqual(limit);
    const cut = sends.flat().at(-1)!;
    expect(cut.headers).toMatchObject({
      'dlq.truncated': 'true',
      'dlq.original.value_bytes': String(huge.length),
      'dlq.original.value_sha256': createHash('sha256').update(huge).digest('hex'),
      'dlq.reason.code': 'invalid_encoding',
    });
    expect(huge.subarray(0, (cut.value as Buffer).length).equals(cut.value as Buffer)).toBe(true);
    expect((cut.value as Buffer).length).toBeGreaterThan(limit / 2);
  });
});
