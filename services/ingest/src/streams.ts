import type { EventsByName, Rejection } from '@crm/events';
import type { TopicKey } from '@crm/kafka';
import { fxRateFor } from './fx-rates.js';
import { clickRow, identityLinkRow, orderRow, surveyRow, ticketRow, type Row, type SourcePosition } from './rows.js';

export interface StreamContext {
  reportingCurrency: string;
  fxRates: Readonly<Record<string, number>>;
}

export type TableRows = { table: string; row: Row }[];
export type Mapped = { ok: true; rows: TableRows } | { ok: false; rejection: Rejection };

/** One input stream: which topic, which schema, and how an accepted event becomes rows. */
export interface Stream<N extends 'orders' | 'clicks' | 'tickets' | 'surveys'> {
  schema: N;
  topic: TopicKey;
  toRows(event: EventsByName[N], source: SourcePosition, ctx: StreamContext): Mapped;
}

const orders: Stream<'orders'> = {
  schema: 'orders',
  topic: 'orders',
  toRows(event, source, ctx) {
    const rate = fxRateFor(event.currency, ctx.reportingCurrency, ctx.fxRates);
    if (rate === undefined) {
      return {
        ok: false,
        rejection: { code: 'missing_fx_rate', path: 'currency', message: `no rate from ${event.currency} to ${ctx.reportingCurrency} is configured` },
      };
    }
    return { ok: true, rows: [{ table: 'orders', row: orderRow(event, rate, source) }] };
  },
};

const clicks: Stream<'clicks'> = {
  schema: 'clicks',
  topic: 'clicks',
  toRows(event, source) {
    const rows: TableRows = [{ table: 'clicks', row: clickRow(event, source) }];
    if (event.customer_id !== null) rows.push({ table: 'identity_links', row: identityLinkRow(event, event.customer_id) });
    return { ok: true, rows };
  },
};

const tickets: Stream<'tickets'> = {
  schema: 'tickets',
  topic: 'tickets',
  toRows: (event, source) => ({ ok: true, rows: [{ table: 'tickets', row: ticketRow(event, source) }] }),
};

const surveys: Stream<'surveys'> = {
  schema: 'surveys',
  topic: 'surveys',
  toRows: (event, source) => ({ ok: true, rows: [{ table: 'surveys', row: surveyRow(event, source) }] }),
};

export type AnyStream = Stream<'orders'> | Stream<'clicks'> | Stream<'tickets'> | Stream<'surveys'>;

export const STREAMS: readonly AnyStream[] = [orders, clicks, tickets, surveys];
