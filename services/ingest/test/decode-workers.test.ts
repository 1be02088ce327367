import { afterEach, describe, expect, it } from 'vitest';
import { CONTENT_TYPE_AVRO, encodeEvent } from '@crm/events';
import { createLogger } from '@crm/runtime';
import { decodeWorkers, type DecodeWorkers } from '../src/decode-workers.js';
import { decodeInline, type BatchInput } from '../src/process-batch.js';
import { STREAMS } from '../src/streams.js';
import type { BatchDecodeContext } from '../src/decode-batch.js';
import { clickEvent } from '../../../test/support/events.js';

const clicks = STREAMS.find((s) => s.schema === 'clicks')!;
const ctx: BatchDecodeContext = { now: Date.parse('2026-05-01T00:00:00Z'), maxFutureSkewMs: 300_000, maxMessageBytes: 2_000, reportingCurrency: 'USD', fxRates: {} };
const logger = createLogger('test', 'silent');

const at = Date.parse('2026-04-30T12:00:00Z');
const click = (n: number, customer: string | null, extra: Record<string, unknown> = {}) => ({
  ...clickEvent(`a${n % 3}`, customer, at, { session: 's1', type: 'page_view', url: 'https://shop.example/p' }),
  ...extra,
});

/** Every way a message can come: JSON, Avro, broken, empty, oversized, odd text, erased. */
function mixedBatch(partition = 3): BatchInput {
  const json = (v: unknown) => ({ value: Buffer.from(JSON.stringify(v)), headers: { 'content-type': 'application/json' } });
  const values: { value: Buffer | null; headers: Record<string, string> }[] = [
    json(click(1, 'c1')),
    json(click(2, null)),
    { value: encodeEvent('clicks', click(3, 'c-erased') as never, 'avro'), headers: { 'content-type': CONTENT_TYPE_AVRO } },
    { value: Buffer.from('{"truncated'), headers: {} },
    { value: null, headers: {} },
    json(click(6, 'c6', { url: 'x'.repeat(3_000) })),
    json(click(7, 'c7', { query: 'line\nbreak \u2028 \ud83d\ude00 "quoted" \\ back' })),
    json(click(8, 'c8', { occurred_at: '2027-01-01T00:00:00Z' })),
  ];
  return { topic: 'crm.clicks.v1', partition, messages: values.map((v, i) => ({ key: Buffer.from('k'), ...v, offset: String(500 + i) })) };
}

let workers: DecodeWorkers | undefined;
afterEach(async () => {
  await workers?.close();
  workers = undefined;
});

/** Until `count` workers are loaded (batches are decoded inline before). */
async function untilReady(w: DecodeWorkers, count: number): Promise<void> {
  for (const deadline = Date.now() + 30_000; w.readyCount() < count; await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) throw new Error(`${w.readyCount()} of ${count} decoding workers ready after 30 s`);
  }
}

describe('decodeWorkers', () => {
  it('decodes a batch on a worker thread exactly as inline: rows, encoded text, rejections and suppression', async () => {
    workers = decodeWorkers(2, logger);
    const batch = mixedBatch();
    const suppression = { customers: new Set(['c-erased']), anonymous: new Set<string>() };
    await untilReady(workers, 2);
    const inline = await decodeInline(clicks, batch, { ...ctx, suppression });
    expect(inline.rejections.map(([i, r]) => [i, r.code])).toEqual([
      [3, 'invalid_encoding'],
      [4, 'invalid_encoding'],
      [5, 'message_too_large'],
      [7, 'timestamp_out_of_range'],
    ]);
    expect(inline.suppressed).toBe(1);
    for (let i = 0; i < 4; i++) expect(await workers.decode(clicks, batch, { ...ctx, suppression })).toEqual(inline);
    // A list that changes reaches the workers with the next batch.
    const none = { customers: new Set<string>(), anonymous: new Set<string>() };
    expect((await workers.decode(clicks, batch, { ...ctx, suppression: none })).suppressed).toBe(0);
  });

  it('fails the batches of a worker that dies with a retriable error, and decodes the next ones on its replacement', async () => {
    workers = decodeWorkers(1, logger, { script: new URL('./fixtures/crashing-decode-worker.ts', import.meta.url) });
    await untilReady(workers, 1);
    await expect(workers.decode(clicks, mixedBatch(666), ctx)).rejects.toMatchObject({ code: 'WORKER_FAILED', retriable: true });
    const batch = mixedBatch();
    const expected = await decodeInline(clicks, batch, ctx);
    await untilReady(workers, 1);
    expect(await workers.decode(clicks, batch, ctx)).toEqual(expected);
  });
});
