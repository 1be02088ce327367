import { describe, expect, it } from 'vitest';
import { createCoalescingQueue } from '../src/coalescing-queue.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('coalescing queue', () => {
  it('runs one job at a time, merging everything submitted meanwhile into the next', async () => {
    const jobs: string[][] = [];
    let active = 0;
    const queue = createCoalescingQueue<string>(async (keys) => {
      active++;
      expect(active).toBe(1);
      jobs.push(keys.sort());
      await tick();
      active--;
    });
    const first = queue.submit(['a']);
    const rest = [queue.submit(['b', 'c']), queue.submit(['c', 'd'])];
    await Promise.all([first, ...rest]);
    expect(jobs).toEqual([['a'], ['b', 'c', 'd']]);
    await queue.submit(['e']);
    expect(jobs.at(-1)).toEqual(['e']);
  });

  it('rejects exactly the submissions a failed job covered, and keeps going', async () => {
    let calls = 0;
    const queue = createCoalescingQueue<number>(async () => {
      calls++;
      await tick();
      if (calls === 2) throw new Error('ClickHouse away');
    });
    const ok = queue.submit([1]);
    const failed = [queue.submit([2]), queue.submit([3])];
    await expect(ok).resolves.toBeUndefined();
    for (const f of failed) await expect(f).rejects.toThrow('ClickHouse away');
    await expect(queue.submit([4])).resolves.toBeUndefined();
  });
});
