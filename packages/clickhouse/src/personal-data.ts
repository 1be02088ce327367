import type { ClickHouseClient } from '@clickhouse/client';

/**
 * Where a customer is held, once: every table with rows about a customer and
 * the condition that selects them. `crm export customer` reads these rows and
 * `crm erase customer` deletes them, so a table added here is exported and
 * erased by both; packages/clickhouse/test/personal-data.test.ts fails when a
 * migrated table has a customer_id or anonymous_id column and is neither here
 * nor in NOT_PERSONAL_DATA.
 *
 * Conditions use two query parameters only: {customer:String}, the customer's
 * id, and {anonymous:Array(String)}, the anonymous ids stitched to them.
 */
export interface PersonalDataTable {
  readonly table: string;
  /** The columns that name the customer in this table. */
  readonly columns: readonly ('customer_id' | 'anonymous_id')[];
  /** A WHERE condition over {customer} and {anonymous}. */
  readonly where: string;
  /** An order for the export, so a document is stable from run to run. */
  readonly orderBy: string;
}

const byCustomer = (table: string, orderBy: string): PersonalDataTable => ({ table, columns: ['customer_id'], where: 'customer_id = {customer:String}', orderBy });

export const PERSONAL_DATA_TABLES: readonly PersonalDataTable[] = [
  byCustomer('orders', 'order_id, occurred_at, event_id'),
  {
    table: 'clicks',
    columns: ['customer_id', 'anonymous_id'],
    // A stitched device's clicks made while someone else was logged in on it are that other customer's.
    where: 'customer_id = {customer:String} OR (customer_id IS NULL AND anonymous_id IN {anonymous:Array(String)})',
    orderBy: 'occurred_at, event_id',
  },
  // Only this customer's links: links of a shared device to other customers are theirs.
  { table: 'identity_links', columns: ['customer_id', 'anonymous_id'], where: 'customer_id = {customer:String}', orderBy: 'linked_at, event_id' },
  byCustomer('tickets', 'ticket_id, occurred_at, event_id'),
  byCustomer('surveys', 'response_id, occurred_at, event_id'),
  byCustomer('customer_profiles', 'updated_at'),
  byCustomer('customer_scores_history', 'as_of, updated_at'),
  byCustomer('segment_changes', 'as_of, changed_at, segment_type'),
];

/** Tables that have a customer_id or anonymous_id column but are not erased, and why. */
export const NOT_PERSONAL_DATA: Readonly<Record<string, string>> = {
  erasures: 'the suppression list: an erased id must stay on it, or later events would store the customer again',
};

/** Query parameters of every PersonalDataTable condition. */
export function personalDataParams(customerId: string, anonymousIds: readonly string[]): { customer: string; anonymous: string[] } {
  return { customer: customerId, anonymous: [...anonymousIds] };
}

/** The anonymous ids stitched to a customer: every anonymous id a click of theirs carried. */
export const STITCHED_ANONYMOUS_IDS = 'SELECT DISTINCT anonymous_id FROM identity_links WHERE customer_id = {customer:String} ORDER BY anonymous_id';


async function rows<T>(client: ClickHouseClient, query: string, params: Record<string, unknown>): Promise<T[]> {
  const result = await client.query({ query, query_params: params, format: 'JSONEachRow' });
  return result.json<T>();
}

export async function stitchedAnonymousIds(client: ClickHouseClient, customerId: string): Promise<string[]> {
  return (await rows<{ anonymous_id: string }>(client, STITCHED_ANONYMOUS_IDS, { customer: customerId })).map((r) => r.anonymous_id);
}

/** Every row held about the customer, by table (rows as ClickHouse stores them, duplicates not yet merged away included). */
export async function customerRows(client: ClickHouseClient, customerId: string, anonymousIds: readonly string[]): Promise<Record<string, Record<string, unknown>[]>> {
  const params = personalDataParams(customerId, anonymousIds);
  const byTable: Record<string, Record<string, unknown>[]> = {};
  for (const t of PERSONAL_DATA_TABLES) {
    byTable[t.table] = await rows(client, `SELECT * FROM ${t.table} WHERE ${t.where} ORDER BY ${t.orderBy}`, params);
  }
  return byTable;
}

/** Rows per table that still hold the customer (0 everywhere after an erasure). */
export async function customerRowCounts(client: ClickHouseClient, customerId: string, anonymousIds: readonly string[]): Promise<Record<string, number>> {
  const params = personalDataParams(customerId, anonymousIds);
  const counts: Record<string, number> = {};
  for (const t of PERSONAL_DATA_TABLES) {
    counts[t.table] = Number((await rows<{ n: number }>(client, `SELECT count() AS n FROM ${t.table} WHERE ${t.where}`, params))[0]!.n);
  }
  return counts;
}

/**
 * Deletes the customer's rows from every table: a lightweight delete hides them from every later
 * query at once (lightweight_deletes_sync = 2: on every replica), then APPLY DELETED MASK rewrites
 * the parts that held them, so the bytes are gone from disk too, not only after some later merge.
 */
export async function deleteCustomerRows(client: ClickHouseClient, customerId: string, anonymousIds: readonly string[]): Promise<void> {
  const params = personalDataParams(customerId, anonymousIds);
  for (const t of PERSONAL_DATA_TABLES) {
    await client.command({ query: `DELETE FROM ${t.table} WHERE ${t.where}`, query_params: params, clickhouse_settings: { lightweight_deletes_sync: '2' } as never });
  }
  for (const t of PERSONAL_DATA_TABLES) {
    await client.command({ query: `ALTER TABLE ${t.table} APPLY DELETED MASK`, clickhouse_settings: { mutations_sync: '2' } });
  }
}

/** The suppression list's row for an erasure; a repeated erasure of the same request is de-duplicated on event_id. */
export async function recordErasure(client: ClickHouseClient, erasure: { customer_id: string; anonymous_ids: readonly string[]; erased_at: string; event_id: string }): Promise<void> {
  await client.insert({ table: 'erasures', values: [erasure], format: 'JSONEachRow' });
}

/** Erased ids (the `erasures` table): events carrying them are dropped, never stored. */
export interface SuppressionList {
  customers: ReadonlySet<string>;
  anonymous: ReadonlySet<string>;
}

/** The suppression list: erased customer ids and the anonymous ids that were stitched to them. */
export async function suppressedIds(client: ClickHouseClient): Promise<SuppressionList> {
  const list = await rows<{ customer_id: string; anonymous_ids: string[] }>(client, 'SELECT customer_id, anonymous_ids FROM erasures', {});
  return { customers: new Set(list.map((r) => r.customer_id)), anonymous: new Set(list.flatMap((r) => r.anonymous_ids)) };
}
