import type { Message } from 'kafkajs';
import { decodeMessage, type DecodeContext } from './decode-message.js';
import { deadLetterMessage, type DeadLetterSource } from './dead-letter.js';
import type { Row } from './rows.js';
import type { AnyStream } from './streams.js';

export interface BatchInput {
  topic: string;
  partition: number;
  messages: readonly Omit<DeadLetterSource, 'topic' | 'partition'>[];
}

export interface BatchEffects {
  /** Writes rows to one table; resolves once ClickHouse acknowledged them. */
  writeRows(table: string, rows: Row[]): Promise<void>;
  sendDeadLetters(messages: Message[]): Promise<void>;
  /** Commits `nextOffset` (the offset after the last message handled) for the batch's partition. */
  commit(nextOffset: string): Promise<void>;
  beforeWrite?(): Promise<void>;
}

export interface BatchResult {
  accepted: number;
  deadLettered: { code: string }[];
}

/**
 * One batch, in the order that makes a crash safe: every good row is
 * acknowledged by ClickHouse and every bad message by the dead-letter topic
 * before the offset moves. A crash anywhere before the commit replays the
 * batch, which de-duplication on event_id makes harmless. Each message has
 * its own outcome, so one bad event never fails the batch.
 */
export async function processBatch(stream: AnyStream, batch: BatchInput, ctx: DecodeContext, effects: BatchEffects): Promise<BatchResult> {
  const rowsByTable = new Map<string, Row[]>();
  const deadLetters: Message[] = [];
  const reasons: { code: string }[] = [];
  let accepted = 0;
  const failedAt = new Date(ctx.now);
  for (const message of batch.messages) {
    const outcome = decodeMessage(stream, { ...message, partition: batch.partition }, ctx);
    if (outcome.ok) {
      accepted++;
      for (const { table, row } of outcome.rows) {
        const rows = rowsByTable.get(table) ?? [];
        rows.push(row);
        rowsByTable.set(table, rows);
      }
    } else {
      deadLetters.push(deadLetterMessage({ ...message, topic: batch.topic, partition: batch.partition }, outcome.rejection, failedAt));
      reasons.push({ code: outcome.rejection.code });
    }
  }
  const last = batch.messages.at(-1);
  if (last === undefined) return { accepted: 0, deadLettered: [] };

  await effects.beforeWrite?.();
  await Promise.all([...rowsByTable].map(([table, rows]) => effects.writeRows(table, rows)));
  if (deadLetters.length > 0) await effects.sendDeadLetters(deadLetters);
  await effects.commit((BigInt(last.offset) + 1n).toString());
  return { accepted, deadLettered: reasons };
}
