import type { Message } from 'kafkajs';
import { decodeOrder, type DecodeContext } from './decode-order.js';
import { deadLetterMessage, type DeadLetterSource } from './dead-letter.js';
import type { OrderRow } from './order-row.js';

export interface BatchInput {
  topic: string;
  partition: number;
  messages: readonly (Omit<DeadLetterSource, 'topic' | 'partition'>)[];
}

export interface BatchEffects {
  writeRows(rows: OrderRow[]): Promise<void>;
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
 * batch, which de-duplication on event_id makes harmless.
 */
export async function processBatch(batch: BatchInput, ctx: DecodeContext, effects: BatchEffects): Promise<BatchResult> {
  const rows: OrderRow[] = [];
  const deadLetters: Message[] = [];
  const reasons: { code: string }[] = [];
  const failedAt = new Date(ctx.now);
  for (const message of batch.messages) {
    const outcome = decodeOrder({ ...message, partition: batch.partition }, ctx);
    if (outcome.kind === 'ok') {
      rows.push(outcome.row);
    } else {
      deadLetters.push(deadLetterMessage({ ...message, topic: batch.topic, partition: batch.partition }, outcome.rejection, failedAt));
      reasons.push({ code: outcome.rejection.code });
    }
  }
  const last = batch.messages.at(-1);
  if (last === undefined) return { accepted: 0, deadLettered: [] };

  await effects.beforeWrite?.();
  if (rows.length > 0) await effects.writeRows(rows);
  if (deadLetters.length > 0) await effects.sendDeadLetters(deadLetters);
  await effects.commit((BigInt(last.offset) + 1n).toString());
  return { accepted: rows.length, deadLettered: reasons };
}
