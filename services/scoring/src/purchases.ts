import { AS_OF } from './run-context.js';
import { onlyCustomers } from './scope.js';

/**
 * The purchases as of T (DESIGN.md's `purchases_as_of`), as the table
 * expression the statistics read (every statement reading it binds {as_of}).
 * Only the statistics read it — the signals take the buyers' purchase
 * figures from them — so it is not materialised: writing ~10 M purchases
 * into a scratch table cost as much as evaluating the view. An incremental
 * update reads it through its scope.
 */
export function purchasesAsOf(scopeTable?: string): string {
  return `(SELECT customer_id, order_id, placed_at, value FROM purchases_as_of(as_of = ${AS_OF}) ${onlyCustomers(scopeTable)})`;
}
