import type { SuppressionList } from '@crm/clickhouse';
import { retry, type Logger } from '@crm/runtime';
import { EMPTY_SUPPRESSION } from './suppression-list.js';

export { EMPTY_SUPPRESSION, isSuppressed, type SuppressionList } from './suppression-list.js';

export interface SuppressionCache {
  /** The list as last read. */
  current(): SuppressionList;
  /** Reads the list once, waiting out a ClickHouse that is away; then keeps it fresh every `refreshMs`. */
  start(): Promise<void>;
  /** Re-reads the list now (after this process erased someone), keeping the previous one if that fails. */
  refresh(): Promise<void>;
  stop(): void;
}

/**
 * The suppression list in memory, re-read every `refreshMs`: an erasure takes effect in ingest
 * within that time. A failed refresh keeps the previous list (logged), so ingest never runs
 * without one once started.
 */
export function suppressionCache(load: () => Promise<SuppressionList>, options: { refreshMs: number; logger: Logger; signal: AbortSignal }): SuppressionCache {
  let list = EMPTY_SUPPRESSION;
  let timer: NodeJS.Timeout | undefined;
  const refresh = async () => {
    try {
      list = await load();
    } catch (error) {
      options.logger.warn({ err: error }, 'suppression list not refreshed; keeping the previous one');
    }
  };
  return {
    current: () => list,
    refresh,
    async start() {
      list = await retry(load, { retries: Number.MAX_SAFE_INTEGER, initialDelayMs: 200, maxDelayMs: 5000, signal: options.signal });
      timer = setInterval(() => void refresh(), options.refreshMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
