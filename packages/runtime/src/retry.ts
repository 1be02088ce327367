import { isRetriable } from './errors.js';
import type { Logger } from './logger.js';

export interface RetryOptions {
  /** How many times to try again after the first failure. */
  retries: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Called before each wait, e.g. to log. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Overrides which errors are worth another try; by default only those marked retriable. */
  shouldRetry?: (error: unknown) => boolean;
  signal?: AbortSignal;
}

/** Exponential backoff with full jitter; a programmer error (not retriable) fails at once. */
export async function retry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const shouldRetry = options.shouldRetry ?? isRetriable;
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= options.retries || !shouldRetry(error) || options.signal?.aborted) throw error;
      const delayMs = backoffDelay(attempt, options);
      options.onRetry?.(error, attempt + 1, delayMs);
      await sleep(delayMs, options.signal);
      // Aborted during the wait: no further attempt.
      if (options.signal?.aborted) throw error;
    }
  }
}

/** The wait before retry number `attempt + 1`: exponential, capped, with jitter (half to all of the ceiling). */
export function backoffDelay(attempt: number, policy: { initialDelayMs: number; maxDelayMs: number }): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    // An abort before the sleep began would never fire its event: a stopping loop would sleep out its interval.
    if (signal?.aborted) return resolve();
    // The listener goes when the timer fires: a loop that sleeps every poll must not pile them up on one signal.
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** How services wait for a dependency (broker, ClickHouse) that is down: for ever, backing off to this ceiling. */
export const DEPENDENCY_BACKOFF = { initialDelayMs: 500, maxDelayMs: 10_000 } as const;

/**
 * Runs `operation` until it succeeds, retrying every retriable failure with
 * the one backoff policy (a dependency that is down is waited for, never a
 * reason to exit), logging each wait. Fails at once on an error that is not
 * retriable, and with the last error when `signal` aborts.
 */
export function waitForDependency<T>(
  what: string,
  operation: (attempt: number) => Promise<T>,
  options: {
    logger: Pick<Logger, 'warn'>;
    signal?: AbortSignal;
    /** Turns a failure into a typed error that says whether a retry can help, e.g. classifyClickHouseError. */
    classify?: (error: unknown) => unknown;
  },
): Promise<T> {
  const classify = options.classify ?? ((error: unknown) => error);
  return retry((attempt) => operation(attempt).catch((error: unknown) => Promise.reject(classify(error))), {
    retries: Number.POSITIVE_INFINITY,
    ...DEPENDENCY_BACKOFF,
    ...(options.signal && { signal: options.signal }),
    onRetry: (error, attempt, delayMs) => {
      options.logger.warn({ err: error, attempt, delayMs }, `${what}: not available yet; retrying`);
    },
  });
}
