/**
 * Group commit for incremental updates: callers submit keys and wait; one
 * job runs at a time over everything submitted while the previous one ran.
 * Under a steady stream the cost of a re-score is paid once per cycle, not
 * once per partition batch, so latency stays near one job's duration.
 */
export interface CoalescingQueue<K> {
  /** Resolves when a job that included these keys has finished; rejects with its error. */
  submit(keys: readonly K[]): Promise<void>;
}

export function createCoalescingQueue<K>(job: (keys: K[]) => Promise<void>): CoalescingQueue<K> {
  let pending = new Set<K>();
  let waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  let running = false;

  const drain = async () => {
    running = true;
    while (waiters.length > 0) {
      const keys = [...pending];
      const batch = waiters;
      pending = new Set();
      waiters = [];
      try {
        await job(keys);
        for (const w of batch) w.resolve();
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
    running = false;
  };

  return {
    submit(keys) {
      for (const key of keys) pending.add(key);
      const done = new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
      if (!running) void drain();
      return done;
    },
  };
}
