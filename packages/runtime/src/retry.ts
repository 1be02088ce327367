import { isRetriable } from './errors.js';

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
      const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** attempt);
      const delayMs = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
      options.onRetry?.(error, attempt + 1, delayMs);
      await sleep(delayMs, options.signal);
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
