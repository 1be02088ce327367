import type { ClickHouseClient } from '@crm/clickhouse';
import type { RunContext } from './run-context.js';

/**
 * An incremental update reads only its customers' rows. The point-in-time
 * views cannot take the customer list (a parameterized view needs every
 * parameter, and analysts call them with as_of alone), and their LIMIT BY and
 * window steps stop ClickHouse from pushing an outer filter down; the
 * `additional_table_filters` setting applies a filter where each table is
 * read, inside the views too. The results are the same — every scoped query
 * also filters its output — only the work shrinks to the customers at hand.
 *
 * `scope` lists the customers; `anonymous` the anonymous ids linked to any of
 * them (all links of those ids are kept, so ownership by earliest link is
 * decided as in a full run). Without `anonymous` clicks and identity links
 * are not filtered: a statement that does not read them needs no list.
 */
export function scopedReadFilters(database: string, scope: string, anonymous?: string): string {
  const inScope = `customer_id IN ${database}.${scope}`;
  const linked = `anonymous_id IN ${database}.${anonymous}`;
  const filters: Record<string, string> = {
    orders: inScope,
    tickets: inScope,
    surveys: inScope,
    ...(anonymous && { clicks: `${inScope} OR ${linked}`, identity_links: linked }),
    customer_profiles: inScope,
    customer_scores_history: inScope,
    segment_changes: inScope,
  };
  return `{${Object.entries(filters).map(([table, filter]) => `'${database}.${table}': '${filter}'`).join(', ')}}`;
}

/** Up to this many customers are listed in the scope statement itself; query parameters travel in the URL, which servers bound (16 KiB here). */
const LISTED_IN_STATEMENT = 100;

/**
 * Restricts the run to these customers: lists them (and, unless the run
 * reads no clicks, the anonymous ids linked to them) in scratch tables and
 * reads every table through scopedReadFilters. Returns the customers' table,
 * for `WHERE customer_id IN`.
 */
export async function scopeTo(ctx: RunContext, customers: readonly string[], options: { clicks: boolean } = { clicks: true }): Promise<string> {
  const scopeTable = ctx.table('scope');
  if (customers.length <= LISTED_IN_STATEMENT) {
    // One round trip instead of two: the few customers of most updates go in as a parameter.
    await ctx.command(`CREATE TABLE ${scopeTable} ENGINE = Memory AS SELECT arrayJoin({customers:Array(String)}) AS customer_id`, { customers });
  } else {
    await ctx.command(`CREATE TABLE ${scopeTable} (customer_id String) ENGINE = Memory`);
    await ctx.clickhouse.insert({ table: scopeTable, values: customers.map((customer_id) => ({ customer_id })), format: 'JSONEachRow' });
  }
  let anonymousTable: string | undefined;
  if (options.clicks) {
    anonymousTable = ctx.table('scope_anonymous');
    await ctx.command(`CREATE TABLE ${anonymousTable} ENGINE = Memory AS SELECT DISTINCT anonymous_id FROM identity_links WHERE customer_id IN ${scopeTable}`);
  }
  ctx.filterReads(scopedReadFilters(await databaseOf(ctx.clickhouse), scopeTable, anonymousTable));
  return scopeTable;
}

/** Restricts a query to the customers of a scope table (an id list as a query parameter would outgrow the request line); '' for a full run. */
export const onlyCustomers = (scopeTable?: string) => (scopeTable ? `WHERE customer_id IN ${scopeTable}` : '');

const databases = new WeakMap<ClickHouseClient, Promise<string>>();

/** The client's database, asked once per client. */
function databaseOf(clickhouse: ClickHouseClient): Promise<string> {
  if (!databases.has(clickhouse)) {
    databases.set(
      clickhouse,
      clickhouse
        .query({ query: 'SELECT currentDatabase() AS database', format: 'JSONEachRow' })
        .then((r) => r.json<{ database: string }>())
        .then(([row]) => row!.database)
        .catch((error: unknown) => {
          databases.delete(clickhouse);
          throw error;
        }),
    );
  }
  return databases.get(clickhouse)!;
}
