import { sleep } from '@crm/runtime';

/** Ingest's committed offsets of some topics, as `Admin.fetchOffsets` answers (partition → next offset to read). */
export type FetchCommitted = () => Promise<ReadonlyMap<string, ReadonlyMap<number, bigint>>>;

export interface IngestProgress {
  /** Whether ingest's committed offset on the partition reached `next` within `waitMs`. */
  reached(topic: string, partition: number, next: bigint, waitMs: number): Promise<boolean>;
  /** Ends the polling; waiters still waiting resolve false. */
  stop(): void;
}

interface Waiter {
  topic: string;
  partition: number;
  next: bigint;
  deadline: number;
  resolve(reached: boolean): void;
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

  const settle = (offsets: ReadonlyMap<string, ReadonlyMap<number, bigint>> | undefined) => {
    const now = Date.now();
    for (const w of waiters) {
      const committed = offsets?.get(w.topic)?.get(w.partition) ?? -1n;
      if (committed >= w.next) w.resolve(true);
      else if (stopped || now >= w.deadline) w.resolve(false);
      else continue;
      waiters.delete(w);
    }
  };

  const poll = async () => {
    polling = true;
    try {
      while (waiters.size > 0 && !stopped) {
        // A failed request is asked again at the next poll; deadlines still end the wait.
        settle(await fetchCommitted().catch(() => undefined));
        if (waiters.size > 0 && !stopped) await sleep(pollMs);
      }
    } finally {
      polling = false;
    }
  };

  return {
    reached(topic, partition, next, waitMs) {
      if (stopped) return Promise.resolve(false);
      const reached = new Promise<boolean>((resolve) => waiters.add({ topic, partition, next, deadline: Date.now() + waitMs, resolve }));
      if (!polling) void poll();
      return reached;
    },
    stop() {
      stopped = true;
      settle(undefined);
    },
  };
}
