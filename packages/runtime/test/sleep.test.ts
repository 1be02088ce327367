import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { sleep } from '../src/retry.js';

describe('sleep', () => {
  it('leaves no abort listener behind once it has slept, so a polling loop does not leak', async () => {
    const stopping = new AbortController();
    for (let i = 0; i < 50; i++) await sleep(1, stopping.signal);
    expect(getEventListeners(stopping.signal, 'abort')).toHaveLength(0);
  });

  it('wakes at once when aborted, and at once when already aborted', async () => {
    const stopping = new AbortController();
    const started = Date.now();
    const sleeping = sleep(60_000, stopping.signal);
    stopping.abort();
    await sleeping;
    await sleep(60_000, stopping.signal);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
