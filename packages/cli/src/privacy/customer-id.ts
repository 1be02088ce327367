import { UsageError } from '../usage-error.js';

/** `<export|erase> customer <customer_id>`: the id as the input schemas allow it (1–256 characters). */
export function customerIdArgument(command: string, rest: readonly string[]): string {
  const [what, id, ...extra] = rest;
  if (what !== 'customer' || id === undefined || extra.length > 0) throw new UsageError(`${command} takes: ${command} customer <customer_id>`);
  if (id.length === 0 || id.length > 256) throw new UsageError(`${command}: a customer id has 1 to 256 characters`);
  return id;
}

/**
 * How long an erasure waits before deleting a second time: twice ingest's default
 * INGEST_SUPPRESSION_REFRESH_SECONDS (5), so events ingest decoded before it re-read the
 * suppression list are caught too. Set it to match a deployment's refresh.
 */
export const DEFAULT_SETTLE_SECONDS = 10;

export function settleSecondsArgument(text: string | undefined): number {
  if (text === undefined) return DEFAULT_SETTLE_SECONDS;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || n > 3600) throw new UsageError(`--settle-seconds: expected 0 to 3600 seconds, got ${text}`);
  return n;
}
