import { describe, expect, it } from 'vitest';
import { ingestProgress } from '../src/ingest-progress.js';

const offsets = (entries: Record<string, Record<number, bigint>>) =>
  new Map(Object.entries(entries).map(([topic, parts]) => [topic, new Map(Object.entries(parts).map(([p, o]) => [Number(p), o]))]));

describe('ingest progress', () => {
  it('serves every waiting batch from one request per poll, and asks nothing while nobody waits', async () => {
    let committed = 0n;
    let requests = 0;
    const progress = ingestProgress(async () => {
      requests++;
      return offsets({ orders: { 0: committed, 1: committed }, tickets: { 0: committed } });
    }, 10);
    const waits = [
      progress.reached('orders', 0, 5n, 5_000),
      progress.reached('orders', 1, 3n, 5_000),
      progress.reached('tickets', 0, 5n, 5_000),
      progress.reached('orders', 0, 4n, 5_000),
    ];
    await new Promise((r) => setTimeout(r, 55));
    committed = 5n;
    expect(await Promise.all(waits)).toEqual([true, true, true, true]);
    // About one request per 10 ms for all four waiters together, not one per waiter.
    const during = requests;
    expect(during).toBeGreaterThanOrEqual(3);
    expect(during).toBeLessThanOrEqual(9);
    await new Promise((r) => setTimeout(r, 50));
    expect(requests).toBe(during);
    progress.stop();
  });

  it('ends a wait at its deadline; a failed request, or a stop, rejects the batches waiting so they are read again', async () => {
    let fail = false;
    const progress = ingestProgress(async () => {
      if (fail) throw new Error('broker away');
      return offsets({ orders: { 0: 1n } });
    }, 5);
    const started = Date.now();
    expect(await progress.reached('orders', 0, 2n, 40)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
    fail = true;
    await expect(Promise.all([progress.reached('orders', 0, 2n, 5_000), progress.reached('orders', 0, 3n, 5_000)])).rejects.toThrow('broker away');
    fail = false;
    expect(await progress.reached('orders', 0, 1n, 5_000)).toBe(true);
    const waiting = progress.reached('orders', 0, 9n, 5_000);
    progress.stop();
    await expect(waiting).rejects.toThrow('stopping');
    await expect(progress.reached('orders', 0, 1n, 5_000)).rejects.toThrow('stopping');
  });
});
