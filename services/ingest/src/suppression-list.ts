// Apart from the cache (suppression.ts), so a decoding worker loads no service runtime.
import type { SuppressionList } from '@crm/clickhouse';
import type { Row } from './rows.js';

export type { SuppressionList };

export const EMPTY_SUPPRESSION: SuppressionList = { customers: new Set(), anonymous: new Set() };

/**
 * Whether a message's rows belong to an erased customer: a row naming an erased customer, or an
 * anonymous click (no customer_id) from an anonymous id that was stitched to one. A click from
 * such a device with another customer logged in is that customer's, as erasure treats it.
 */
export function isSuppressed(list: SuppressionList, rows: readonly { row: Row }[]): boolean {
  if (list.customers.size === 0 && list.anonymous.size === 0) return false;
  return rows.some(({ row }) => {
    const customer = row.customer_id;
    if (typeof customer === 'string') return list.customers.has(customer);
    return typeof row.anonymous_id === 'string' && list.anonymous.has(row.anonymous_id);
  });
}
