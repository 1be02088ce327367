import { describe, expect, it } from 'vitest';
import { partitionLanes } from '../src/partition-lanes.js';

const later = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The room of a batch that must be started. */
function admitted({ started, room }: { started: boolean; room: Promise<void> }): Promise<void> {
  expect(started).toBe(true);
  return room;
}

describe('partition lanes', () => {
  it('commits each partition in offset order while later batches are already being written', async () => {
    const lanes = partitionLanes({ seek: () => expect.fail('no seek'), onFailure: () => expect.fail('no failure') });
    const events: string[] = [];
    const batch = (partition: number, first: number, writeMs: number) =>
      admitted(
        lanes.admit({ topic: 't', partition, first: String(first) }, async (turn) => {
          events.push(`write ${partition}@${first}`);
          await later(writeMs);
          expect(await turn()).toBe(true);
          events.push(`commit ${partition}@${first}`);
        }),
      );
    // The second batch of partition 0 writes faster than the first: it still commits after it.
    const admittedFirst = batch(0, 0, 40);
    await admittedFirst; // the first batch of a lane is admitted at once
    const admittedSecond = batch(0, 10, 1);
    await batch(1, 0, 1);
    expect(events.slice(0, 2)).toEqual(['write 0@0', 'write 0@10']);
    await admittedSecond; // resolves only once the batch before it is done
    expect(events).toContain('commit 0@0');
    await lanes.drain();
    expect(events.filter((e) => e.startsWith('commit 0'))).toEqual(['commit 0@0', 'commit 0@10']);
    expect(events).toContain('commit 1@0');
  });

  it('after a failed batch commits nothing behind it and reads the partition again from the failed batch', async () => {
    const seeks: string[] = [];
    const failures: unknown[] = [];
    const lanes = partitionLanes({ seek: (topic, partition, offset) => seeks.push(`${topic}:${partition}@${offset}`), onFailure: (error) => failures.push(error) });
    const committed: string[] = [];
    const work = (first: number, fail = false) => async (turn: () => Promise<boolean>) => {
      await later(5);
      if (fail) throw new Error('ClickHouse refused the insert');
      if (await turn()) committed.push(String(first));
    };
    await admitted(lanes.admit({ topic: 't', partition: 0, first: '0' }, work(0, true)));
    // Fetched before the failure was known: written, never committed.
    await admitted(lanes.admit({ topic: 't', partition: 0, first: '10' }, work(10)));
    // Fetched from beyond the failed batch before the seek took effect: not worked on at all.
    expect(lanes.admit({ topic: 't', partition: 0, first: '20' }, work(20)).started).toBe(false);
    await lanes.drain();
    expect(committed).toEqual([]);
    expect(seeks).toEqual(['t:0@0']);
    expect(failures).toHaveLength(1);
    // Read again from the failed batch: the lane goes on.
    await admitted(lanes.admit({ topic: 't', partition: 0, first: '0' }, work(0)));
    await admitted(lanes.admit({ topic: 't', partition: 0, first: '10' }, work(10)));
    await lanes.drain();
    expect(committed).toEqual(['0', '10']);
  });

  it('keeps at most `depth` batches of a partition in flight: the room of each waits for the one depth - 1 before it', async () => {
    const lanes = partitionLanes({ seek: () => expect.fail('no seek'), onFailure: () => expect.fail('no failure'), depth: 3 });
    const releases: (() => void)[] = [];
    const done: number[] = [];
    const admit = (first: number) =>
      admitted(
        lanes.admit({ topic: 't', partition: 0, first: String(first) }, async (turn) => {
          await new Promise<void>((r) => releases.push(r));
          expect(await turn()).toBe(true);
          done.push(first);
        }),
      );
    const rooms = [admit(0), admit(1), admit(2), admit(3)].map((room) => {
      let settled = false;
      void room.then(() => (settled = true));
      return () => settled;
    });
    await later(5);
    // Three in flight: the first two left room for a third at once; the third waits for the first.
    expect(rooms.map((settled) => settled())).toEqual([true, true, false, false]);
    // The second is written but commits only after the first: still no room.
    releases[1]!();
    await later(5);
    expect(rooms.map((settled) => settled())).toEqual([true, true, false, false]);
    releases[0]!();
    await later(5);
    expect(rooms.map((settled) => settled())).toEqual([true, true, true, true]);
    releases[2]!();
    releases[3]!();
    await lanes.drain();
    expect(done).toEqual([0, 1, 2, 3]);
  });

  it('at depth 1 a batch has room only once it is done itself', async () => {
    const lanes = partitionLanes({ seek: () => expect.fail('no seek'), onFailure: () => expect.fail('no failure'), depth: 1 });
    let finished = false;
    await admitted(lanes.admit({ topic: 't', partition: 0, first: '0' }, async () => void (await later(20), (finished = true))));
    expect(finished).toBe(true);
    expect(() => partitionLanes({ seek: () => undefined, onFailure: () => undefined, depth: 0 })).toThrow('positive integer');
  });
});
