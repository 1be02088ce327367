import { AS_OF, dateParam, type RunContext } from './run-context.js';
import { onlyCustomers } from './scope.js';

/**
 * The purchases as of T (DESIGN.md's `purchases_as_of`), as a table
 * expression the statistics and the signals read. A full run materialises
 * them once (the view's definition is evaluated once per run); an incremental
 * update reads the view through its scope (cheap for a few customers: no
 * copy, one statement less).
 */
export async function purchasesAsOf(ctx: RunContext, asOf: Date, scopeTable?: string): Promise<string> {
  const view = `SELECT customer_id, order_id, placed_at, value FROM purchases_as_of(as_of = ${AS_OF})`;
  // A subquery: every statement reading it binds {as_of} too.
  if (scopeTable) return `(${view} ${onlyCustomers(scopeTable)})`;
  const purchases = ctx.table('purchases');
  await ctx.command(`CREATE TABLE ${purchases} ENGINE = MergeTree ORDER BY customer_id AS ${view}`, { as_of: dateParam(asOf) });
  return purchases;
}
