import type { Message } from 'kafkajs';
import type { Rejection } from '@crm/events';
import { chunkBySize } from '@crm/kafka';
import { CrmError, errorMessage } from '@crm/runtime';
import { prepareMessage } from './decode-message.js';
import { decodeBatch, type BatchDecodeContext, type DecodedBatch, type DecodedTable } from './decode-batch.js';
import { deadLetterMessage, type DeadLetterSource } from './dead-letter.js';
import { linesOf, rowsOfLines, type EncodedRows } from './rows.js';
import type { AnyStream } from './streams.js';

export interface BatchInput {
  topic: string;
  partition: number;
  messages: readonly Omit<DeadLetterSource, 'topic' | 'partition'>[];
}

export interface BatchContext extends BatchDecodeContext {
  /** Largest dead-letter send (and so largest dead letter): under the dead-letter topic's max.message.bytes. */
  maxDeadLetterSendBytes: number;
}

export interface BatchEffects {
  /**
   * Turns the batch's messages into encoded rows and rejections (decodeBatch): inline when
   * absent; the service hands it to a worker thread (decode-workers).
   */
  decode?(stream: AnyStream, batch: BatchInput, ctx: BatchDecodeContext): Promise<DecodedBatch>;
  /**
   * Writes rows to one table; resolves once ClickHouse acknowledged them. Throws a
   * CrmError CLICKHOUSE_DATA_REJECTED when ClickHouse refuses the data itself;
   * anything else it throws (after its own retries) fails the batch.
   */
  writeRows(table: string, rows: EncodedRows): Promise<void>;
  sendDeadLetters(messages: Message[]): Promise<void>;
  /** Commits `nextOffset` (the offset after the last message handled) for the batch's partition. */
  commit(nextOffset: string): Promise<void>;
  beforeWrite?(): Promise<void>;
}

export interface BatchResult {
  accepted: number;
  /** Valid events of erased customers, dropped. */
  suppressed: number;
  deadLettered: { code: string }[];
}

export const decodeInline = async (stream: AnyStream, batch: BatchInput, ctx: BatchDecodeContext): Promise<DecodedBatch> =>
  decodeBatch(stream, batch.partition, batch.messages.map(prepareMessage), ctx);

/**
 * One batch, in the order that makes a crash safe: every good row is
 * acknowledged by ClickHouse and every bad message by the dead-letter topic
 * before the offset moves. A crash anywhere before the commit replays the
 * batch, which de-duplication on event_id makes harmless. Each message has
 * its own outcome, so one bad event never fails the batch: one that ClickHouse
 * refuses although it passed validation is found by splitting the insert and
 * dead-lettered as storage_rejected, and the rest is stored. A valid event of an erased
 * customer is dropped: committed with the batch, written nowhere.
 */
export async function processBatch(stream: AnyStream, batch: BatchInput, ctx: BatchContext, effects: BatchEffects): Promise<BatchResult> {
  const last = batch.messages.at(-1);
  if (last === undefined) return { accepted: 0, suppressed: 0, deadLettered: [] };
  const decoded = await (effects.decode ?? decodeInline)(stream, batch, ctx);
  const rejections = new Map(decoded.rejections);
  const refusedByDecoding = rejections.size;

  await effects.beforeWrite?.();
  for (const rows of decoded.tables) {
    // A message refused by its first table writes nothing to the next (only ClickHouse's refusals,
    // found while writing, can name a message with rows).
    const part = rejections.size === refusedByDecoding ? rows : withoutRefused(rows, rejections);
    await writeIsolating(rows.table, part, rejections, effects);
  }

  const failedAt = new Date(ctx.now);
  const deadLetters = [...rejections]
    .sort(([a], [b]) => a - b)
    .map(([index, rejection]) => deadLetterMessage({ ...batch.messages[index]!, topic: batch.topic, partition: batch.partition }, rejection, failedAt, ctx.maxDeadLetterSendBytes));
  for (const chunk of chunkBySize(deadLetters, ctx.maxDeadLetterSendBytes)) await effects.sendDeadLetters(chunk);
  await effects.commit((BigInt(last.offset) + 1n).toString());
  const deadLettered = [...rejections.values()].map((r) => ({ code: r.code }));
  return { accepted: batch.messages.length - rejections.size - decoded.suppressed, suppressed: decoded.suppressed, deadLettered };
}

/** Rows of one table with the batch index of each line's message. */
type Lines = Omit<DecodedTable, 'table'>;

/** The lines at `indexes` of rows whose text is split into `lines`. */
const pick = (rows: Lines, lines: readonly string[], indexes: readonly number[]): Lines => ({
  ...rowsOfLines(rows.columns, indexes.map((i) => lines[i]!)),
  messages: indexes.map((i) => rows.messages[i]!),
});
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

function withoutRefused(rows: Lines, rejections: ReadonlyMap<number, Rejection>): Lines {
  return pick(rows, linesOf(rows), range(0, rows.count).filter((i) => !rejections.has(rows.messages[i]!)));
}

/** Writes the rows; when ClickHouse refuses the data, halves the insert until the refused rows stand alone. */
async function writeIsolating(table: string, rows: Lines, rejections: Map<number, Rejection>, effects: BatchEffects): Promise<void> {
  if (rows.count === 0) return;
  try {
    await effects.writeRows(table, rows);
  } catch (error) {
    if (!(error instanceof CrmError) || error.code !== 'CLICKHOUSE_DATA_REJECTED') throw error;
    if (rows.count === 1) {
      // The dead letter may say what ClickHouse said (it holds the message anyway); logs may not.
      rejections.set(rows.messages[0]!, { code: 'storage_rejected', path: '', message: `${table}: ${errorMessage(error)}` });
      return;
    }
    const lines = linesOf(rows);
    const half = Math.ceil(rows.count / 2);
    await writeIsolating(table, pick(rows, lines, range(0, half)), rejections, effects);
    await writeIsolating(table, pick(rows, lines, range(half, rows.count)), rejections, effects);
  }
}
