import type { IHeaders, Message } from 'kafkajs';

/**
 * A record's bytes in a batch beyond its key, value and headers: length varints,
 * attributes, timestamp and offset deltas, one varint pair per header. Generous,
 * so a chunk never exceeds its budget on the wire.
 */
const RECORD_OVERHEAD_BYTES = 32;
const HEADER_OVERHEAD_BYTES = 10;
/** The record batch header (61 bytes) and the produce request around it. */
export const BATCH_OVERHEAD_BYTES = 1024;

/**
 * The broker refuses a record batch larger than the topic's `max.message.bytes`
 * (default 1 MiB) with MESSAGE_TOO_LARGE; this default stays below it.
 */
export const DEFAULT_MAX_SEND_BYTES = 1_000_000;

const byteLength = (v: Buffer | string | null | undefined) => (v === null || v === undefined ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length);

export function headersBytes(headers: IHeaders | undefined): number {
  let size = 0;
  for (const [name, value] of Object.entries(headers ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) size += HEADER_OVERHEAD_BYTES + Buffer.byteLength(name) + byteLength(v);
  }
  return size;
}

/** What one message takes in a record batch, as an upper bound. */
export function recordBytes(message: Message): number {
  return RECORD_OVERHEAD_BYTES + byteLength(message.key) + byteLength(message.value) + headersBytes(message.headers);
}

/**
 * Splits messages, in order, into sends of at most `maxBytes` each (one message
 * larger than that alone in its send: callers make sure none is).
 */
export function chunkBySize(messages: readonly Message[], maxBytes: number): Message[][] {
  const chunks: Message[][] = [];
  let current: Message[] = [];
  let size = BATCH_OVERHEAD_BYTES;
  for (const message of messages) {
    const bytes = recordBytes(message);
    if (current.length > 0 && size + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      size = BATCH_OVERHEAD_BYTES;
    }
    current.push(message);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
