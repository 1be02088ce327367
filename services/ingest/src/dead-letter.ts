import { createHash } from 'node:crypto';
import type { IHeaders, Message } from 'kafkajs';
import type { Rejection } from '@crm/events';
import { BATCH_OVERHEAD_BYTES, headersBytes, recordBytes } from '@crm/kafka';

export interface DeadLetterSource {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders | undefined;
}

/** Keys longer than this are cut in a dead letter that does not fit (a key is an id, not a payload). */
const MAX_TRUNCATED_KEY_BYTES = 1024;
/** Room kept for the dlq.* headers when a letter is cut down. */
const DLQ_HEADERS_RESERVE_BYTES = 2048;

/**
 * The original bytes, key and headers, plus `dlq.*` headers saying where the
 * message came from and why it was refused — enough to replay it unchanged.
 * A letter that would not fit in `maxBytes` (the dead-letter topic's limit)
 * keeps a prefix of its value instead, with the original's length and SHA-256
 * (`dlq.truncated`), so it can still be found, counted and matched.
 */
export function deadLetterMessage(source: DeadLetterSource, rejection: Rejection, failedAt: Date, maxBytes = Number.POSITIVE_INFINITY): Message {
  const dlqHeaders: IHeaders = {
    'dlq.source.topic': source.topic,
    'dlq.source.partition': String(source.partition),
    'dlq.source.offset': source.offset,
    'dlq.reason.code': rejection.code,
    'dlq.reason.path': rejection.path,
    // ClickHouse's messages can be long; a sentence for people stays short.
    'dlq.reason.message': rejection.message.slice(0, 1000),
    'dlq.failed_at': failedAt.toISOString(),
  };
  const whole: Message = { key: source.key, value: source.value, headers: { ...(source.headers ?? {}), ...dlqHeaders } };
  if (BATCH_OVERHEAD_BYTES + recordBytes(whole) <= maxBytes) return whole;
  return truncatedDeadLetter(source, dlqHeaders, maxBytes);
}

function truncatedDeadLetter(source: DeadLetterSource, dlqHeaders: IHeaders, maxBytes: number): Message {
  const value = source.value ?? Buffer.alloc(0);
  const key = source.key ?? null;
  const keepHeaders = headersBytes(source.headers) + DLQ_HEADERS_RESERVE_BYTES + MAX_TRUNCATED_KEY_BYTES <= maxBytes / 2;
  const cutKey = key !== null && key.length > MAX_TRUNCATED_KEY_BYTES;
  const headers: IHeaders = {
    ...(keepHeaders ? (source.headers ?? {}) : {}),
    ...dlqHeaders,
    'dlq.truncated': 'true',
    'dlq.original.value_bytes': String(value.length),
    'dlq.original.value_sha256': createHash('sha256').update(value).digest('hex'),
    ...(keepHeaders ? {} : { 'dlq.original.headers_dropped': String(Object.keys(source.headers ?? {}).length) }),
    ...(cutKey ? { 'dlq.original.key_bytes': String(key.length) } : {}),
  };
  const letter: Message = { key: cutKey ? key.subarray(0, MAX_TRUNCATED_KEY_BYTES) : key, value: Buffer.alloc(0), headers };
  const room = Math.max(0, maxBytes - BATCH_OVERHEAD_BYTES - recordBytes(letter));
  letter.value = value.subarray(0, Math.min(room, value.length));
  return letter;
}
