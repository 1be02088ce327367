import { readFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import type { DataFormat } from '@clickhouse/client';
import type { ClickHouseClient } from '@crm/clickhouse';
import { CrmError } from '@crm/runtime';
import { isBrokenPipe } from '../exit.js';
import { UsageError } from '../usage-error.js';

/**
 * Runs one query and writes ClickHouse's own rendering of the result: a
 * readable table by default, or any output format ClickHouse knows (TSV,
 * CSVWithNames, JSONEachRow, …), so what a data team sees is what the engine says.
 * Resolves once every byte is handed to `out`; rejects if the response breaks
 * off or `out` fails (a reader that went away).
 */
export async function runSql(
  clickhouse: ClickHouseClient,
  query: string,
  format: string,
  out: NodeJS.WritableStream,
  params: Record<string, unknown> = {},
): Promise<void> {
  const result = await clickhouse.exec({
    query,
    query_params: params,
    // Any ClickHouse output format is allowed here, not only those the client can parse.
    // wait_end_of_query: an error found late comes as an error status, not as text after the rows.
    clickhouse_settings: { default_format: format as DataFormat, wait_end_of_query: 1 },
  });
  try {
    await copyTo(result.stream as AsyncIterable<Buffer>, out as Writable);
  } catch (error) {
    // The output's own failure (the reader left, a full disk) speaks for itself.
    if (isBrokenPipe(error) || (out as Writable).errored) throw error;
    throw new CrmError('CLICKHOUSE_UNAVAILABLE', `the result broke off before its end (${(error as Error).message}): the output is incomplete`, { cause: error, retriable: true });
  }
}

/**
 * Writes every chunk at the pace `out` drains, so a slow reader slows the response instead of the
 * rows piling up in memory to be lost at exit. `out` stays open (it is stdout, and other output
 * may follow), and nothing stays attached to it: pipeline() with `end: false` left a close and an
 * error listener on stdout per query, eleven of them in crm demo's summary.
 */
async function copyTo(source: AsyncIterable<Buffer>, out: Writable): Promise<void> {
  for await (const chunk of source) {
    if (out.errored) throw out.errored;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  if (out.errored) throw out.errored;
}

/** Where `crm sql` takes its query from: the argument, `--file`, or standard input when it is not a terminal. */
export async function sqlQuery(args: { positionals: string[]; file: string | undefined; stdin: NodeJS.ReadStream }): Promise<string> {
  const { positionals, file, stdin } = args;
  if (positionals.length > 1) throw new UsageError('sql takes one query in quotes (or --file F, or the query on standard input)');
  if (positionals.length === 1 && file !== undefined) throw new UsageError('sql takes a query or --file, not both');
  const query =
    positionals[0] ??
    (file !== undefined ? await readFile(file, 'utf8') : stdin.isTTY ? undefined : await readAll(stdin));
  if (query === undefined) throw new UsageError('sql needs a query: crm sql "SELECT …", crm sql --file query.sql, or crm sql < query.sql');
  if (query.trim() === '') throw new UsageError(`sql: the query${file === undefined ? '' : ` in ${file}`} is empty`);
  return query;
}


async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
