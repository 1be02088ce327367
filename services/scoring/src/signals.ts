import type { ColumnOf, CUSTOMER_PROFILES } from '@crm/clickhouse';
import { AS_OF as T, dateParam, type RunContext } from './run-context.js';
import { onlyCustomers } from './scope.js';

/** Days between instants are differences of UTC day numbers (DESIGN.md). */
const daysBefore = (column: string) => `(toRelativeDayNum(${T}) - toRelativeDayNum(${column}))`;
/** Windows of the profile signals (not the design's W, which is a setting). */
const CSAT_WINDOW_DAYS = 365;

/** The profile columns the signals give, each from the customer's events (`seen`) or purchases (`bought`). */
const SIGNALS = {
  customer_id: 'seen.customer_id',
  first_seen_at: 'seen.first_seen_at',
  last_seen_at: 'seen.last_seen_at',
  first_purchase_at: 'bought.first_purchase_at',
  last_purchase_at: 'bought.last_purchase_at',
  purchases_total: 'ifNull(bought.n, 0)',
  revenue_total: 'ifNull(bought.revenue, toDecimal128(0, 4))',
  avg_order_value: 'if(ifNull(bought.n, 0) = 0, NULL, CAST(round(bought.revenue / toDecimal128(bought.n, 0), 4) AS Decimal(38, 4)))',
  clicks_30d: 'seen.clicks_30d',
  sessions_30d: 'seen.sessions_30d',
  last_click_at: 'seen.last_click_at',
  open_tickets: 'seen.open_tickets',
  complaints_90d: 'seen.complaints_90d',
  open_complaints: 'seen.open_complaints',
  csat: 'seen.csat',
  last_nps: 'seen.last_nps',
} satisfies Partial<Record<ColumnOf<typeof CUSTOMER_PROFILES>, string>>;

export type SignalColumn = keyof typeof SIGNALS;
export const SIGNAL_COLUMNS = Object.keys(SIGNALS) as SignalColumn[];

const none = (type: string) => `CAST(NULL AS Nullable(${type}))`;

/** The tagged union's columns after customer_id, first_at, last_at and src, in order, with their types. */
const UNION_COLUMNS = { session_id: 'String', status: 'String', category: 'String', kind: 'String', score: 'UInt8', scale_max: 'UInt8', response_id: 'String' };
/** A row source of the union: `values` gives some of UNION_COLUMNS (as expressions); the rest are NULL. */
function unionSource(from: string, head: string, values: Partial<Record<keyof typeof UNION_COLUMNS, string>>): string {
  const rest = Object.entries(UNION_COLUMNS).map(([name, type]) => {
    const value = values[name as keyof typeof UNION_COLUMNS];
    return value ? `toNullable(${value}) AS ${name}` : `${none(type)} AS ${name}`;
  });
  return `SELECT customer_id, ${head}, ${rest.join(', ')} FROM ${from}`;
}

/** Tickets and survey answers as rows of the tagged union (src 't' and 's'). */
const SUPPORT_SOURCES = [
  unionSource(`ticket_states_as_of(as_of = ${T})`, "opened_at AS first_at, updated_at AS last_at, 't' AS src", {
    status: 'toString(status)',
    category: 'toString(category)',
  }),
  unionSource(`survey_responses_as_of(as_of = ${T})`, "answered_at AS first_at, answered_at AS last_at, 's' AS src", {
    kind: 'toString(kind)',
    score: 'score',
    scale_max: 'scale_max',
    response_id: 'response_id',
  }),
];

/** A ticket in one of these states is open (an open complaint can raise a real-time alert). */
export const OPEN_TICKET_STATUSES = ['opened', 'pending', 'reopened'] as const;
/** An NPS answer at or below this is a detractor's. */
export const DETRACTOR_MAX_NPS = 6;

const OPEN = `status IN (${OPEN_TICKET_STATUSES.map((s) => `'${s}'`).join(', ')})`;
const CSAT = `src = 's' AND kind = 'csat' AND ${daysBefore('last_at')} < ${CSAT_WINDOW_DAYS}`;
// An old answer says nothing about the customer now: it neither alerts nor blocks recovery.
const NPS = `src = 's' AND kind = 'nps' AND ${daysBefore('last_at')} < {nps_window_days:UInt32}`;

/** The support signals, each one aggregate over the union's ticket and survey rows. */
const SUPPORT_SIGNALS = {
  open_tickets: `countIf(src = 't' AND ${OPEN})`,
  complaints_90d: `countIf(src = 't' AND category = 'complaint' AND ${daysBefore('first_at')} < 90)`,
  open_complaints: `countIf(src = 't' AND category = 'complaint' AND ${OPEN})`,
  csat: `if(countIf(${CSAT}) = 0, NULL, 100 * countIf(${CSAT} AND score >= scale_max - 1) / countIf(${CSAT}))`,
  last_nps: `if(countIf(${NPS}) = 0, NULL, argMaxIf(score, (last_at, response_id), ${NPS}))`,
} satisfies Partial<Record<SignalColumn, string>>;

const aggregates = (signals: Record<string, string>) => Object.entries(signals).map(([column, expression]) => `${expression} AS ${column}`);

/**
 * Every customer with any event at or before T and their signals, each from
 * the point-in-time view that defines it (attributed_clicks_as_of,
 * ticket_states_as_of, survey_responses_as_of; the purchase signals from the
 * run's statistics of purchases_as_of, which already aggregate each buyer's
 * purchases). Order events count as seen straight from the orders table:
 * first and last seen are the first and last event, which needs no order's
 * state (building every order's state again cost a sort of all order events). Each view is read once: its
 * rows are tagged by source in one union and every signal is one conditional
 * aggregate over it (a subquery per signal would evaluate the views again).
 */
function signalsSql(statistics: string, only: string): string {
  return `
  SELECT ${Object.entries(SIGNALS).map(([column, expression]) => `${expression} AS ${column}`).join(',\n    ')}
  FROM
  (
    SELECT
      customer_id,
      min(first_at) AS first_seen_at,
      max(last_at) AS last_seen_at,
      countIf(src = 'c' AND ${daysBefore('last_at')} < 30) AS clicks_30d,
      uniqExactIf(session_id, src = 'c' AND ${daysBefore('last_at')} < 30) AS sessions_30d,
      if(countIf(src = 'c') = 0, NULL, maxIf(last_at, src = 'c')) AS last_click_at,
      ${aggregates(SUPPORT_SIGNALS).join(',\n      ')}
    FROM
    (
      ${unionSource(`orders WHERE occurred_at <= ${T}`, "occurred_at AS first_at, occurred_at AS last_at, 'o' AS src", {})}
      UNION ALL
      ${unionSource(`attributed_clicks_as_of(as_of = ${T})`, "occurred_at AS first_at, occurred_at AS last_at, 'c' AS src", { session_id: 'session_id' })}
      UNION ALL
      ${SUPPORT_SOURCES.join('\n      UNION ALL\n      ')}
    )
    ${only}
    GROUP BY customer_id
  ) AS seen
  LEFT JOIN
  (
    SELECT customer_id,
           toNullable(first_purchase_at) AS first_purchase_at,
           toNullable(last_purchase_at) AS last_purchase_at,
           toNullable(purchases) AS n,
           toNullable(revenue) AS revenue
    FROM ${statistics}
    ${only}
  ) AS bought ON bought.customer_id = seen.customer_id`;
}

/**
 * Every customer's signals (or the scope table's customers') in a scratch
 * table, the purchase figures from the run's statistics table. They do not
 * depend on the models: a run computes them while it reads the fit inputs,
 * fits and predicts.
 */
export async function customerSignals(ctx: RunContext, statistics: string, asOf: Date, npsWindowDays: number, scopeTable?: string): Promise<string> {
  const signals = ctx.table('signals');
  await ctx.command(`CREATE TABLE ${signals} ENGINE = ${ctx.engine()} AS ${signalsSql(statistics, onlyCustomers(scopeTable))} SETTINGS join_use_nulls = 1`, {
    as_of: dateParam(asOf),
    nps_window_days: npsWindowDays,
  });
  return signals;
}

/**
 * The support signals alone (open tickets and complaints, CSAT, last NPS
 * answer) of the customers with a ticket or survey answer at or before T:
 * the same aggregates as signalsSql, over the ticket and survey views only.
 */
export function supportSignalsSql(only: string): string {
  return `
  SELECT customer_id, ${aggregates(SUPPORT_SIGNALS).join(', ')}
  FROM (${SUPPORT_SOURCES.join(' UNION ALL ')})
  ${only}
  GROUP BY customer_id`;
}
