import { describe, expect, it } from 'vitest';
import { createAlarm } from '../src/commit-notices.js';

const timed = async (work: Promise<void>) => {
  const started = performance.now();
  await work;
  return performance.now() - started;
};

describe('the publisher waits for a commit notice or its poll, whichever comes first', () => {
  it('a wake ends a sleep at once', async () => {
    const alarm = createAlarm();
    setTimeout(() => alarm.wake(), 20);
    expect(await timed(alarm.sleep(10_000))).toBeLessThan(1_000);
  });

  it('a wake while nobody sleeps ends the next sleep at once, and only that one', async () => {
    const alarm = createAlarm();
    alarm.wake();
    alarm.wake();
    expect(await timed(alarm.sleep(10_000))).toBeLessThan(50);
    expect(await timed(alarm.sleep(100))).toBeGreaterThanOrEqual(90);
  });

  it('without a wake a sleep lasts its time, and an abort ends it', async () => {
    const alarm = createAlarm();
    expect(await timed(alarm.sleep(100))).toBeGreaterThanOrEqual(90);
    const stopping = new AbortController();
    setTimeout(() => stopping.abort(), 20);
    expect(await timed(alarm.sleep(10_000, stopping.signal))).toBeLessThan(1_000);
    expect(await timed(alarm.sleep(10_000, stopping.signal))).toBeLessThan(50);
  });
});
