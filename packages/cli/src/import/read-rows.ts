import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parse, type Options, type Parser } from 'csv-parse';
import type { RowGroup } from './order-rows.js';
import { textAt, type SourceRow } from './values.js';

export type FileFormat = 'csv' | 'ndjson';

/** A row of the file, or a line that is not one (NDJSON that does not parse). */
export type ReadRow = { line: number; row: SourceRow } | { line: number; unreadable: string };

/**
 * The file's rows, streamed: csv-parse and readline hold one chunk at a time, and the consumer's
 * awaits (a Kafka send) pause reading, so memory stays flat whatever the file's size.
 */
export async function* readRows(file: string, format: FileFormat): AsyncGenerator<ReadRow> {
  if (format === 'csv') {
    // info and raw give each record's lines, so a quoted field spanning lines does not shift later line numbers.
    const parser = csvRecords(file, { columns: true, skip_empty_lines: true, trim: true, bom: true, relax_column_count: true, info: true, raw: true });
    for await (const record of parser as AsyncIterable<{ record: SourceRow; info: { lines: number; raw: string } }>) {
      yield { line: startLine(record.info.lines, record.info.raw), row: record.record };
    }
    return;
  }
  let line = 0;
  for await (const text of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    line++;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      yield { line, unreadable: `not JSON: ${(error as Error).message}` };
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) yield { line, unreadable: 'not a JSON object' };
    else yield { line, row: value as SourceRow };
  }
}

/** pipe() does not pass on the file's errors (a missing file, a directory): the parser must end with them, not the process. */
function csvRecords(file: string, options: Options): Parser {
  const source = createReadStream(file);
  const parser = source.pipe(parse(options));
  source.on('error', (error) => parser.destroy(error));
  return parser;
}

/** A CSV file's column names (its first record). */
export async function csvHeader(file: string): Promise<string[]> {
  const parser = csvRecords(file, { to_line: 1, trim: true, bom: true, relax_column_count: true });
  for await (const record of parser as AsyncIterable<string[]>) return record;
  return [];
}

/** csv-parse reports the line a record ends on; its raw text (after skipped empty lines) says how many lines it spans. */
function startLine(endLine: number, raw: string): number {
  const text = raw.replace(/^[\r\n]+/, '').replace(/(\r\n|\r|\n)$/, '');
  return endLine - (text.match(/\r\n|\r|\n/g)?.length ?? 0);
}

/** One order can hold 1 000 items (the schema's limit); keeping more rows than that would only cost memory. */
const MAX_GROUP_ROWS = 1000;

/**
 * Rows to the units that become one event each: every row, or consecutive rows with the same value
 * in the key column (an order's line items; exports list an order's rows together).
 */
export async function* groupRows(rows: AsyncIterable<ReadRow>, key: string | undefined): AsyncGenerator<RowGroup | { line: number; unreadable: string }> {
  let current: (RowGroup & { key: string | undefined }) | undefined;
  for await (const read of rows) {
    if ('unreadable' in read || key === undefined) {
      if (current !== undefined) yield current;
      current = undefined;
      yield 'unreadable' in read ? read : { line: read.line, rows: [read.row], dropped: 0 };
      continue;
    }
    const k = textAt(read.row, key);
    if (current !== undefined && k !== undefined && k === current.key) {
      if (current.rows.length < MAX_GROUP_ROWS) current.rows.push(read.row);
      else current.dropped++;
      continue;
    }
    if (current !== undefined) yield current;
    current = { line: read.line, rows: [read.row], dropped: 0, key: k };
  }
  if (current !== undefined) yield current;
}
