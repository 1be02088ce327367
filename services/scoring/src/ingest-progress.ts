import { sleep } from '@crm/runtime';

/** Ingest's committed offsets of some topics, as `Admin.fetchOffsets` answers (partition → next offset to read). */
export type FetchCommitted = () => Promise<ReadonlyMap<string, ReadonlyMap<number, bigint>>>;

export interface IngestProgress {
  /**
   * Whether ingest's committed offset on the partition reached `next` within `waitMs`. Rejects
   * when the offsets could not be read or the watcher stopped: the batch is then read again
   * instead of being re-scored (and committed) without knowing that its rows are written.
   */
  reached(topic: string, partition: number, next: bigint, waitMs: number): Promise<boolean>;
  /** Ends the polling; waiters still waiting are rejected. */
  stop(): void;
}

interface Waiter {
  topic: string;
  partition: number;
  next: bigint;
  deadline: number;
  resolve(reached: boolean): void;
  reject(error: unknown): void;
}

/**
 * One poll of ingest's committed offsets for everyone waiting on them. Each
 * partition batch of the incremental consumer waits until ingest has written
 * it; polling once per batch put dozens of offset requests a second on the
 * broker (most of a core at 300 events/s on two cores). Here one request at a
 * time serves every waiter, and nothing is asked while nobody waits.
 */
export function ingestProgress(fetchCommitted: FetchCommitted, pollMs: number): IngestProgress {
  const waiters = new Set<Waiter>();
  let polling = false;
  let stopped = false;

  const settle = (offsets: ReadonlyMap<string, ReadonlyMap<number, bigint>>) => {
    const now = Date.now();
    for (const w of waiters) {
      const committed = offsets.get(w.topic)?.get(w.partition) ?? -1n;
      if (committed >= w.next) w.resolve(true);
      else if (now >= w.deadline) w.resolve(false);
      else continue;
      waiters.delete(w);
    }
  };
  const rejectAll = (error: unknown) => {
    for (const w of waiters) w.reject(error);
    waiters.clear();
  };

  const poll = async () => {
    polling = true;
    try {
      while (waiters.size > 0 && !stopped) {
        let offsets: ReadonlyMap<string, ReadonlyMap<number, bigint>>;
        try {
          offsets = await fetchCommitted();
        } catch (error) {
          // Each waiting batch would have seen this failure on its own request.
          rejectAll(error);
          break;
        }
        if (stopped) break;
        settle(offsets);
        if (waiters.size > 0) await sleep(pollMs);
      }
    } finally {
      polling = false;
    }
  };

  return {
    reached(topic, partition, next, waitMs) {
      if (stopped) return Promise.reject(new Error('the incremental consumer is stopping'));
      const reached = new Promise<boolean>((resolve, reject) => waiters.add({ topic, partition, next, deadline: Date.now() + waitMs, resolve, reject }));
      if (!polling) void poll();
      return reached;
    },
    stop() {
      stopped = true;
      rejectAll(new Error('the incremental consumer is stopping'));
    },
  };
}
