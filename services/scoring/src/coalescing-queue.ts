/**
 * Group commit for incremental updates: callers submit keys and wait; a job
 * runs over everything submitted since the last one started, and up to
 * `concurrency` jobs run at once. Under a steady stream the cost of a
 * re-score is paid once per cycle, not once per partition batch; with a
 * second job allowed, keys that arrive while one runs start at once instead
 * of waiting for it, so latency stays near one job's duration, not one and a half.
 */
export interface CoalescingQueue<K> {
  /** Resolves when a job that included these keys has finished; rejects with its error. */
  submit(keys: readonly K[]): Promise<void>;
}

export function createCoalescingQueue<K>(job: (keys: K[]) => Promise<void>, options: { concurrency?: number } = {}): CoalescingQueue<K> {
  const concurrency = Math.max(1, options.concurrency ?? 1);
  let pending = new Set<K>();
  let waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  let running = 0;

  const start = () => {
    while (running < concurrency && waiters.length > 0) {
      const keys = [...pending];
      const batch = waiters;
      pending = new Set();
      waiters = [];
      running++;
      void (async () => {
        try {
          await job(keys);
          for (const w of batch) w.resolve();
        } catch (error) {
          for (const w of batch) w.reject(error);
        } finally {
          running--;
          start();
        }
      })();
    }
  };

  return {
    submit(keys) {
      for (const key of keys) pending.add(key);
      const done = new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
      start();
      return done;
    },
  };
}
