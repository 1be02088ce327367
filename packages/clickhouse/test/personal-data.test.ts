import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDatabase, startTestClickHouse, type TestClickHouse } from '../../../test/support/clickhouse.js';
import { seedCustomer } from '../../../test/support/personal-data.js';
import {
  createClickHouse,
  customerRowCounts,
  customerRows,
  deleteCustomerRows,
  migrate,
  NOT_PERSONAL_DATA,
  PERSONAL_DATA_TABLES,
  stitchedAnonymousIds,
  type ClickHouseClient,
} from '../src/index.js';

let host: TestClickHouse;
let clickhouse: ClickHouseClient;
beforeAll(async () => {
  host = await startTestClickHouse();
  ({ clickhouse } = await migratedDatabase(host, 'personal'));
}, 120_000);
afterAll(async () => {
  await clickhouse?.close();
  await host?.stop();
});

describe('the list of tables that hold a customer', () => {
  it('names every migrated table with a customer_id or anonymous_id column, or says why it is left out', async () => {
    const result = await clickhouse.query({
      query: `SELECT DISTINCT c.table AS table FROM system.columns AS c INNER JOIN system.tables AS t ON t.database = c.database AND t.name = c.table
              WHERE c.database = currentDatabase() AND c.name IN ('customer_id', 'anonymous_id') AND t.engine NOT LIKE '%View%' ORDER BY table`,
      format: 'JSONEachRow',
    });
    const holding = (await result.json<{ table: string }>()).map((r) => r.table);
    const listed = [...PERSONAL_DATA_TABLES.map((t) => t.table), ...Object.keys(NOT_PERSONAL_DATA)].sort();
    expect(holding).toEqual(listed);
    const columns = await (await clickhouse.query({ query: 'SELECT table, name FROM system.columns WHERE database = currentDatabase()', format: 'JSONEachRow' })).json<{ table: string; name: string }>();
    for (const t of PERSONAL_DATA_TABLES) {
      for (const column of t.columns) expect(columns.some((c) => c.table === t.table && c.name === column), `${t.table}.${column}`).toBe(true);
    }
  });
});

describe('reading and deleting a customer on the real engine', () => {
  it('finds every row of the customer and their stitched device, deletes exactly those, and leaves other customers alone', async () => {
    await seedCustomer(clickhouse, 'c-erase', 'a-erase', 'c-stranger');
    await seedCustomer(clickhouse, 'c-other', 'a-other');
    const anonymous = await stitchedAnonymousIds(clickhouse, 'c-erase');
    expect(anonymous).toEqual(['a-erase']);

    const held = await customerRows(clickhouse, 'c-erase', anonymous);
    expect(Object.fromEntries(Object.entries(held).map(([table, rows]) => [table, rows.length]))).toEqual({
      orders: 1, clicks: 2, identity_links: 1, tickets: 1, surveys: 1, customer_profiles: 1, customer_scores_history: 1, segment_changes: 1,
    });
    expect(held.surveys![0]!.comment).toBe('slow delivery');
    const others = await customerRowCounts(clickhouse, 'c-other', ['a-other']);

    await deleteCustomerRows(clickhouse, 'c-erase', anonymous);
    expect(await customerRowCounts(clickhouse, 'c-erase', anonymous)).toEqual(Object.fromEntries(PERSONAL_DATA_TABLES.map((t) => [t.table, 0])));
    // Gone from the parts on disk too, not only masked: reading without the mask finds nothing either.
    for (const t of PERSONAL_DATA_TABLES) {
      const raw = await clickhouse.query({ query: `SELECT count() AS n FROM ${t.table} WHERE ${t.where}`, query_params: { customer: 'c-erase', anonymous }, clickhouse_settings: { apply_deleted_mask: 0 } as never, format: 'JSONEachRow' });
      expect(Number((await raw.json<{ n: number }>())[0]!.n), t.table).toBe(0);
    }
    // A merge brings no deleted row back.
    for (const t of PERSONAL_DATA_TABLES) await clickhouse.command({ query: `OPTIMIZE TABLE ${t.table} FINAL` });
    expect(await customerRowCounts(clickhouse, 'c-erase', anonymous)).toEqual(Object.fromEntries(PERSONAL_DATA_TABLES.map((t) => [t.table, 0])));
    expect(await customerRowCounts(clickhouse, 'c-other', ['a-other'])).toEqual(others);
    // The stranger who logged in on the erased customer's device keeps their own click.
    const stranger = await (await clickhouse.query({ query: "SELECT count() AS n FROM clicks WHERE customer_id = 'c-stranger'", format: 'JSONEachRow' })).json<{ n: number }>();
    expect(Number(stranger[0]!.n)).toBe(1);
  });
});
