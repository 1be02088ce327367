import type { Message } from 'kafkajs';
import type { Rejection } from '@crm/events';
import { chunkBySize } from '@crm/kafka';
import { CrmError, errorMessage } from '@crm/runtime';
import { decodeMessage, type DecodeContext } from './decode-message.js';
import { deadLetterMessage, type DeadLetterSource } from './dead-letter.js';
import type { Row } from './rows.js';
import type { AnyStream } from './streams.js';
import { isSuppressed, type SuppressionList } from './suppression.js';

export interface BatchInput {
  topic: string;
  partition: number;
  messages: readonly Omit<DeadLetterSource, 'topic' | 'partition'>[];
}

export interface BatchContext extends DecodeContext {
  /** Largest dead-letter send (and so largest dead letter): under the dead-letter topic's max.message.bytes. */
  maxDeadLetterSendBytes: number;
  /** Erased ids: their events are dropped (committed, never written); none when absent. */
  suppression?: SuppressionList;
}

export interface BatchEffects {
  /**
   * Writes rows to one table; resolves once ClickHouse acknowledged them. Throws a
   * CrmError CLICKHOUSE_DATA_REJECTED when ClickHouse refuses the data itself;
   * anything else it throws (after its own retries) fails the batch.
   */
  writeRows(table: string, rows: Row[]): Promise<void>;
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
  // Tables in the order a message's rows come (clicks before identity_links), so a
  // message refused by its first table writes nothing to the next.
  const rowsByTable = new Map<string, { message: number; row: Row }[]>();
  const rejections = new Map<number, Rejection>();
  let suppressed = 0;
  batch.messages.forEach((message, index) => {
    const outcome = decodeMessage(stream, { ...message, partition: batch.partition }, ctx);
    if (!outcome.ok) return void rejections.set(index, outcome.rejection);
    if (ctx.suppression && isSuppressed(ctx.suppression, outcome.rows)) return void suppressed++;
    for (const { table, row } of outcome.rows) {
      const rows = rowsByTable.get(table) ?? [];
      rows.push({ message: index, row });
      rowsByTable.set(table, rows);
    }
  });

  await effects.beforeWrite?.();
  for (const [table, rows] of rowsByTable) {
    await writeIsolating(table, rows.filter((r) => !rejections.has(r.message)), rejections, effects);
  }

  const failedAt = new Date(ctx.now);
  const deadLetters = [...rejections]
    .sort(([a], [b]) => a - b)
    .map(([index, rejection]) => deadLetterMessage({ ...batch.messages[index]!, topic: batch.topic, partition: batch.partition }, rejection, failedAt, ctx.maxDeadLetterSendBytes));
  for (const chunk of chunkBySize(deadLetters, ctx.maxDeadLetterSendBytes)) await effects.sendDeadLetters(chunk);
  await effects.commit((BigInt(last.offset) + 1n).toString());
  const deadLettered = [...rejections.values()].map((r) => ({ code: r.code }));
  return { accepted: batch.messages.length - rejections.size - suppressed, suppressed, deadLettered };
}

/** Writes the rows; when ClickHouse refuses the data, halves the insert until the refused rows stand alone. */
async function writeIsolating(
  table: string,
  rows: { message: number; row: Row }[],
  rejections: Map<number, Rejection>,
  effects: BatchEffects,
): Promise<void> {
  if (rows.length === 0) return;
  try {
    await effects.writeRows(
      table,
      rows.map((r) => r.row),
    );
  } catch (error) {
    if (!(error instanceof CrmError) || error.code !== 'CLICKHOUSE_DATA_REJECTED') throw error;
    if (rows.length === 1) {
      // The dead letter may say what ClickHouse said (it holds the message anyway); logs may not.
      rejections.set(rows[0]!.message, { code: 'storage_rejected', path: '', message: `${table}: ${errorMessage(error)}` });
      return;
    }
    const half = Math.ceil(rows.length / 2);
    await writeIsolating(table, rows.slice(0, half), rejections, effects);
    await writeIsolating(table, rows.slice(half), rejections, effects);
  }
}
