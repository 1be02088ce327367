import type { IHeaders } from 'kafkajs';
import { contentTypeHeader, decodeEvent, type Rejection } from '@crm/events';
import type { AnyStream, Mapped, StreamContext } from './streams.js';

export interface DecodeContext extends StreamContext {
  now: number;
  maxFutureSkewMs: number;
  maxMessageBytes: number;
}

export interface RawMessage {
  key?: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders | undefined;
  partition: number;
  offset: string;
}

const reject = (code: Rejection['code'], path: string, message: string): Mapped => ({ ok: false, rejection: { code, path, message } });

/**
 * What decoding needs of a Kafka message, taken on the consumer's thread: the value, its
 * content type and its weight (key and headers stay behind with the original, for a dead letter).
 */
export interface PreparedMessage {
  value: Buffer | null;
  contentType: string;
  /** Key, value and headers in bytes, as the size limit counts them. */
  size: number;
  offset: string;
}

export function prepareMessage(message: Pick<RawMessage, 'key' | 'value' | 'headers' | 'offset'>): PreparedMessage {
  return { value: message.value, contentType: contentTypeHeader(message.headers), size: messageBytes(message), offset: message.offset };
}

/** One Kafka message to the rows it becomes, or the reason it must be dead-lettered. */
export function decodeMessage(stream: AnyStream, message: RawMessage, ctx: DecodeContext): Mapped {
  return decodePrepared(stream, prepareMessage(message), message.partition, ctx);
}

export function decodePrepared(stream: AnyStream, message: PreparedMessage, partition: number, ctx: DecodeContext): Mapped {
  if (message.size > ctx.maxMessageBytes) {
    return reject('message_too_large', '', `${message.size} bytes (key, value and headers) exceeds the limit of ${ctx.maxMessageBytes}`);
  }
  const decoded = decodeEvent(stream.schema, message.value ?? Buffer.alloc(0), message.contentType);
  if (!decoded.ok) return { ok: false, rejection: decoded.rejection };
  if (Date.parse(decoded.event.occurred_at) > ctx.now + ctx.maxFutureSkewMs) {
    return reject('timestamp_out_of_range', 'occurred_at', `more than ${ctx.maxFutureSkewMs / 1000} s in the future`);
  }
  const source = { partition, offset: message.offset };
  // The union of streams is narrowed by the schema name at run time; TypeScript cannot follow it.
  return (stream.toRows as (e: unknown, s: typeof source, c: StreamContext) => Mapped)(decoded.event, source, ctx);
}

/** What a message weighs as the limit counts it: key, value, and every header's name and value(s). */
export function messageBytes(message: Pick<RawMessage, 'key' | 'value' | 'headers'>): number {
  let size = (message.key?.length ?? 0) + (message.value?.length ?? 0);
  // Called for every message: a plain loop, without the arrays Object.entries and wrapping would allocate.
  const headers = message.headers;
  for (const name in headers) {
    const value = headers[name];
    if (!Array.isArray(value)) size += Buffer.byteLength(name) + (value === undefined ? 0 : byteLength(value));
    else for (const v of value) size += Buffer.byteLength(name) + byteLength(v);
  }
  return size;
}

const byteLength = (v: Buffer | string): number => (typeof v === 'string' ? Buffer.byteLength(v) : v.length);
