import type { IHeaders } from 'kafkajs';
import { orderEvent, rejectionFromZod, type Rejection } from '@crm/events';
import { fxRateFor } from './fx-rates.js';
import { toOrderRow, type OrderRow } from './order-row.js';

export type Outcome<Row> = { kind: 'ok'; row: Row } | { kind: 'dead-letter'; rejection: Rejection };

export interface DecodeContext {
  now: number;
  maxFutureSkewMs: number;
  maxMessageBytes: number;
  reportingCurrency: string;
  fxRates: Readonly<Record<string, number>>;
}

export interface RawMessage {
  value: Buffer | null;
  headers?: IHeaders | undefined;
  partition: number;
  offset: string;
}

const reject = (code: Rejection['code'], path: string, message: string): Outcome<never> => ({
  kind: 'dead-letter',
  rejection: { code, path, message },
});

export function contentType(headers: IHeaders | undefined): string {
  const raw = headers?.['content-type'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value === undefined ? 'application/json' : value.toString().split(';')[0]!.trim().toLowerCase();
}

/** Turns one Kafka message into a row for `crm.orders`, or the reason it must be dead-lettered. */
export function decodeOrder(message: RawMessage, ctx: DecodeContext): Outcome<OrderRow> {
  const bytes = message.value ?? Buffer.alloc(0);
  if (bytes.length > ctx.maxMessageBytes) {
    return reject('message_too_large', '', `${bytes.length} bytes exceeds the limit of ${ctx.maxMessageBytes}`);
  }
  const type = contentType(message.headers);
  if (type !== 'application/json') return reject('unsupported_content_type', '', `content-type ${type} is not accepted`);

  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    return reject('invalid_encoding', '', `not UTF-8 JSON: ${(error as Error).message}`);
  }
  const parsed = orderEvent.safeParse(json);
  if (!parsed.success) return { kind: 'dead-letter', rejection: rejectionFromZod(parsed.error, json) };

  const event = parsed.data;
  if (Date.parse(event.occurred_at) > ctx.now + ctx.maxFutureSkewMs) {
    return reject('timestamp_out_of_range', 'occurred_at', `more than ${ctx.maxFutureSkewMs / 1000} s in the future`);
  }
  const rate = fxRateFor(event.currency, ctx.reportingCurrency, ctx.fxRates);
  if (rate === undefined) {
    return reject('missing_fx_rate', 'currency', `no rate from ${event.currency} to ${ctx.reportingCurrency} is configured`);
  }
  return { kind: 'ok', row: toOrderRow(event, rate, { partition: message.partition, offset: message.offset }) };
}
