/**
 * Serialises the writes of scoring results (full runs and incremental
 * updates share one outbox) and hands each a strictly increasing
 * `changed_at`, so the publisher's cursor over (changed_at, event_id) never
 * skips a row that committed late.
 */
export interface WriteLock {
  exclusive<T>(write: (changedAt: Date) => Promise<T>): Promise<T>;
}

/** `after`: the newest changed_at already committed (a clock that stepped back must not reuse it). */
export function createWriteLock(after = 0, now: () => number = Date.now): WriteLock {
  let tail: Promise<unknown> = Promise.resolve();
  let last = after;
  return {
    exclusive<T>(write: (changedAt: Date) => Promise<T>): Promise<T> {
      const result = tail.then(() => {
        last = Math.max(now(), last + 1);
        return write(new Date(last));
      });
      // A failed write must not block the ones queued after it.
      tail = result.catch(() => undefined);
      return result;
    },
  };
}
