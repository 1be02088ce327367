import type { IHeaders } from 'kafkajs';
import { contentTypeHeader, decodeEvent, type Rejection } from '@crm/events';
import type { AnyStream, Mapped, StreamContext } from './streams.js';

export interface DecodeContext extends StreamContext {
  now: number;
  maxFutureSkewMs: number;
  maxMessageBytes: number;
}

export interface RawMessage {
  value: Buffer | null;
  headers?: IHeaders | undefined;
  partition: number;
  offset: string;
}

const reject = (code: Rejection['code'], path: string, message: string): Mapped => ({ ok: false, rejection: { code, path, message } });

/** One Kafka message to the rows it becomes, or the reason it must be dead-lettered. */
export function decodeMessage(stream: AnyStream, message: RawMessage, ctx: DecodeContext): Mapped {
  const bytes = message.value ?? Buffer.alloc(0);
  if (bytes.length > ctx.maxMessageBytes) {
    return reject('message_too_large', '', `${bytes.length} bytes exceeds the limit of ${ctx.maxMessageBytes}`);
  }
  const decoded = decodeEvent(stream.schema, bytes, contentTypeHeader(message.headers));
  if (!decoded.ok) return { ok: false, rejection: decoded.rejection };
  if (Date.parse(decoded.event.occurred_at) > ctx.now + ctx.maxFutureSkewMs) {
    return reject('timestamp_out_of_range', 'occurred_at', `more than ${ctx.maxFutureSkewMs / 1000} s in the future`);
  }
  const source = { partition: message.partition, offset: message.offset };
  // The union of streams is narrowed by the schema name at run time; TypeScript cannot follow it.
  return (stream.toRows as (e: unknown, s: typeof source, c: StreamContext) => Mapped)(decoded.event, source, ctx);
}
