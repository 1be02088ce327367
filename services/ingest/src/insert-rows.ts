import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@crm/clickhouse';
import type { EncodedRows } from './rows.js';

/**
 * One insert of rows already encoded as JSONCompactEachRow lines, sent as they are (the client's
 * insert would encode an object per row on this thread). The table and the column names are
 * ingest's own, never event data.
 */
export async function insertEncodedRows(clickhouse: ClickHouseClient, table: string, rows: EncodedRows): Promise<void> {
  const { stream } = await clickhouse.exec({
    query: insertStatement(table, rows),
    values: Readable.from([insertBody(rows)], { objectMode: false }),
  });
  // An insert answers with an empty body; reading it to the end frees the connection for the next.
  for await (const _ of stream);
}

/** The statement and the body of an insert of `rows`: what the client sends, and what chDB takes in-process. */
export const insertStatement = (table: string, rows: EncodedRows): string => `INSERT INTO ${table} (${rows.columns.join(', ')}) FORMAT JSONCompactEachRow`;
export const insertBody = (rows: EncodedRows): Buffer => Buffer.from(`${rows.text}\n`);
