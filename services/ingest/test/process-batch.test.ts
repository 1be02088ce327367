import { describe, expect, it } from 'vitest';
import { processBatch, type BatchEffects } from '../src/process-batch.js';
import type { DecodeContext } from '../src/decode-message.js';
import { STREAMS } from '../src/streams.js';

const orders = STREAMS.find((s) => s.schema === 'orders')!;

const ctx: DecodeContext = { now: Date.parse('2026-05-01T00:00:00Z'), maxFutureSkewMs: 0, maxMessageBytes: 1e6, reportingCurrency: 'USD', fxRates: {} };
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
      calls.push(`write ${table} ${rows.length}`);
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
    expect(result).toEqual({ accepted: 2, deadLettered: [{ code: 'invalid_encoding' }] });
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
});
