import type { Rejection } from '@crm/events';
import { decodePrepared, type DecodeContext, type PreparedMessage } from './decode-message.js';
import { encodeRow, rowsOfLines, type EncodedRows, type Row } from './rows.js';
import type { AnyStream } from './streams.js';
import { isSuppressed, type SuppressionList } from './suppression-list.js';

export interface BatchDecodeContext extends DecodeContext {
  /** Erased ids: their events are dropped (committed, never written); none when absent. */
  suppression?: SuppressionList;
}

/** One table's rows of a batch, encoded, and the batch index of the message each line came from. */
export interface DecodedTable extends EncodedRows {
  table: string;
  messages: number[];
}

/** What a batch's messages became: rows by table, the messages refused and why, the events dropped as erased. */
export interface DecodedBatch {
  /** In the order a message's rows come (clicks before identity_links). */
  tables: DecodedTable[];
  /** [batch index, reason], in batch order. */
  rejections: [number, Rejection][];
  suppressed: number;
}

/**
 * Decodes, validates and maps every message of a batch, and encodes the rows for the insert:
 * everything ingest does to a batch before writing it, free of effects, so it can run on a
 * worker thread (decode-workers) as well as inline.
 */
export function decodeBatch(stream: AnyStream, partition: number, messages: readonly PreparedMessage[], ctx: BatchDecodeContext): DecodedBatch {
  const tables = new Map<string, { columns: string[]; lines: string[]; messages: number[] }>();
  const rejections: [number, Rejection][] = [];
  let suppressed = 0;
  messages.forEach((message, index) => {
    const outcome = decodePrepared(stream, message, partition, ctx);
    if (!outcome.ok) return void rejections.push([index, outcome.rejection]);
    if (ctx.suppression && isSuppressed(ctx.suppression, outcome.rows)) return void suppressed++;
    for (const { table, row } of outcome.rows) {
      let rows = tables.get(table);
      if (rows === undefined) tables.set(table, (rows = { columns: Object.keys(row), lines: [], messages: [] }));
      rows.lines.push(encodeRow(rows.columns, row as Row));
      rows.messages.push(index);
    }
  });
  return {
    tables: [...tables].map(([table, { columns, lines, messages: indexes }]) => ({ table, ...rowsOfLines(columns, lines), messages: indexes })),
    rejections,
    suppressed,
  };
}
