/** A fetched batch of one partition: where it starts, for reading it again. */
export interface LaneBatch {
  topic: string;
  partition: number;
  /** The batch's first offset. */
  first: string;
}

export interface PartitionLanes {
  /**
   * Starts `work` for a batch without waiting for the partition's batch
   * before it. `work` must call `turn()` before it commits: it resolves once
   * every earlier batch of the partition is done, true when they all
   * succeeded, false when one failed (then this batch must not commit: the
   * partition is read again from the failed batch). `room` resolves once the
   * batch `depth - 1` before this one is done (at depth 1, this one), so a
   * partition has at most `depth` batches in flight. `started` is false for a batch fetched from beyond a failed one
   * before the partition was sent back to it: it is not worked on and its
   * offset must not be resolved.
   */
  admit(batch: LaneBatch, work: (turn: () => Promise<boolean>) => Promise<void>): { started: boolean; room: Promise<void> };
  /**
   * A new group generation (a consumer joined): fetching restarts from the committed offsets,
   * so lanes start afresh. Batches still in flight finish on their own; one that fails then needs
   * no seek (it is a handover), and none can commit past data the new generation has not read again.
   */
  reset(): void;
  /** Settles once every batch admitted so far is done (before the consumer disconnects). */
  drain(): Promise<void>;
}

interface Lane {
  /** The last `depth` batches admitted, oldest first: the newest is the one a next batch commits after, the oldest gives its room. */
  recent: Promise<void>[];
  generation: number;
  /** After a failure: the offset the partition was sent back to, until a batch from there (or before) arrives. */
  rewindTo?: bigint;
}

/**
 * Lets a consumer fetch and process a partition's next batch while the
 * previous one is still being written, keeping the order of its commits:
 * a batch commits only after every earlier batch of its partition committed,
 * so an offset is never committed before the data it covers is stored. When
 * a batch fails, the batches behind it do not commit, `seek` sends the
 * partition back to the failed batch's first offset, and it is read again.
 * A failure that `isHandover` recognises (the partition was reassigned while
 * the batch was written) needs no seek: the partition's next owner, perhaps
 * this consumer after it rejoins, reads it from the committed offset. One
 * for the life of a service, reset on each group join.
 */
export function partitionLanes(options: {
  seek(topic: string, partition: number, offset: string): void;
  onFailure(error: unknown, batch: LaneBatch, handover: boolean): void;
  isHandover?(error: unknown): boolean;
  /** Batches of one partition in flight at most (default 2): `room` waits for the one this many back. */
  depth?: number;
}): PartitionLanes {
  const depth = options.depth ?? 2;
  if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`depth must be a positive integer, not ${depth}`);
  let lanes = new Map<string, Lane>();
  /** Bumped by reset: a batch admitted before it belongs to an earlier generation. */
  let epoch = 0;
  const inFlight = new Set<Promise<void>>();
  return {
    admit(batch, work) {
      const key = `${batch.topic}:${batch.partition}`;
      const lane = lanes.get(key) ?? { recent: [], generation: 0 };
      lanes.set(key, lane);
      // Offsets may skip (transaction markers, compaction), so only a rewind tells a stale batch.
      if (lane.rewindTo !== undefined && BigInt(batch.first) > lane.rewindTo) return { started: false, room: Promise.resolve() };
      delete lane.rewindTo;
      const generation = lane.generation;
      const admittedIn = epoch;
      const previous = lane.recent.at(-1) ?? Promise.resolve();
      const turn = async () => {
        await previous;
        return lane.generation === generation;
      };
      const tail = work(turn).catch((error: unknown) => {
        // A batch behind a failed one fails or stops too; the partition is already being read again.
        if (lane.generation !== generation) return;
        lane.generation++;
        // Once a new generation began, fetching restarted from the committed offsets: no seek.
        const handover = admittedIn !== epoch || (options.isHandover?.(error) ?? false);
        options.onFailure(error, batch, handover);
        if (handover) return;
        lane.rewindTo = BigInt(batch.first);
        try {
          options.seek(batch.topic, batch.partition, batch.first);
        } catch (seekError) {
          // Stopping or rebalancing: whoever owns the partition next starts from its committed offset.
          options.onFailure(seekError, batch, true);
        }
      });
      lane.recent.push(tail);
      if (lane.recent.length > depth) lane.recent.shift();
      const room = lane.recent.length === depth ? lane.recent[0]! : Promise.resolve();
      inFlight.add(tail);
      void tail.finally(() => inFlight.delete(tail));
      return { started: true, room };
    },
    reset() {
      lanes = new Map();
      epoch++;
    },
    drain: async () => {
      await Promise.all([...inFlight]);
    },
  };
}
