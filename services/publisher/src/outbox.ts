import type { ClickHouseClient } from '@crm/clickhouse';
import type { CustomerAtRiskEvent, RiskDriver, SegmentChangeEvent } from '@crm/events';
import type { TopicKey } from '@crm/kafka';

/** Where publishing of one stream stands: the last outbox row sent, by (changed_at, event_id). */
export interface Cursor {
  changedAt: string;
  eventId: string;
}

const START: Cursor = { changedAt: '1970-01-01 00:00:00.000', eventId: '' };

/** A row of the segment_changes outbox as the publisher reads it. */
interface OutboxRow {
  id: string;
  customer_id: string;
  segment_type: string;
  from: string | null;
  to: string;
  as_of_text: string;
  changed_at_text: string;
  r_score: number | null;
  f_score: number | null;
  m_score: number | null;
  rfm_segment: string;
  lifecycle_stage: string;
  value_tier: string | null;
  churn_probability: number | null;
  clv_12m: number | null;
  drivers: string[];
}

const iso = (text: string) => new Date(`${text.replace(' ', 'T')}Z`).toISOString();

/** One outbox stream: which rows, which topic, and the payload subscribers receive. */
export interface OutboxStream<N extends 'segment-changes' | 'customer-at-risk' = 'segment-changes' | 'customer-at-risk'> {
  /** The key of its cursor in publisher_progress. */
  name: string;
  schema: N;
  topic: TopicKey;
  where: string;
  toEvent(row: OutboxRow): N extends 'segment-changes' ? SegmentChangeEvent : CustomerAtRiskEvent;
}

export const SEGMENT_CHANGES: OutboxStream<'segment-changes'> = {
  name: 'segment_changes',
  schema: 'segment-changes',
  topic: 'segmentChanges',
  where: "segment_type IN ('rfm', 'lifecycle', 'tier')",
  toEvent: ({ id, as_of_text, changed_at_text, drivers: _, segment_type, ...rest }) => ({
    ...rest,
    segment_type: segment_type as SegmentChangeEvent['segment_type'],
    event_id: id,
    as_of: iso(as_of_text),
    changed_at: iso(changed_at_text),
  }),
};

/** Risk decisions are recorded as segment_type 'risk'; only entering risk is published (recovery is kept for the record). */
export const CUSTOMER_AT_RISK: OutboxStream<'customer-at-risk'> = {
  name: 'customer_at_risk',
  schema: 'customer-at-risk',
  topic: 'customerAtRisk',
  where: "segment_type = 'risk' AND `to` = 'at_risk'",
  toEvent: (row) => ({
    event_id: row.id,
    customer_id: row.customer_id,
    // Never null here: a customer gets a tier only from a fitted model, and only tiered customers enter risk.
    churn_probability: row.churn_probability ?? 0,
    value_tier: row.value_tier as CustomerAtRiskEvent['value_tier'],
    clv_12m: row.clv_12m ?? 0,
    drivers: row.drivers as RiskDriver[],
    // The scoring instant, not the write time: a re-sent event carries the same payload.
    detected_at: iso(row.as_of_text),
  }),
};

/** The newest commit mark of the outbox ('' before the first). */
export async function newestCommit(clickhouse: ClickHouseClient): Promise<string> {
  const result = await clickhouse.query({ query: 'SELECT toString(max(changed_at)) AS at FROM outbox_commits HAVING count() > 0', format: 'JSONEachRow' });
  return (await result.json<{ at: string }>())[0]?.at ?? '';
}

export async function readCursor(clickhouse: ClickHouseClient, stream: OutboxStream): Promise<Cursor> {
  const result = await clickhouse.query({
    query: `SELECT toString(argMax(changed_at, updated_at)) AS changed_at, argMax(event_id, updated_at) AS event_id
            FROM publisher_progress WHERE stream = {stream:String} HAVING count() > 0`,
    query_params: { stream: stream.name },
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ changed_at: string; event_id: string }>();
  return row ? { changedAt: row.changed_at, eventId: row.event_id } : START;
}

/** Recorded only after Kafka acknowledged the batch: a crash before it resends, never loses. */
export async function writeCursor(clickhouse: ClickHouseClient, stream: OutboxStream, cursor: Cursor): Promise<void> {
  await clickhouse.insert({
    table: 'publisher_progress',
    values: [{ stream: stream.name, changed_at: cursor.changedAt, event_id: cursor.eventId }],
    format: 'JSONEachRow',
  });
}

/**
 * The next committed outbox rows of a stream after the cursor, oldest first
 * (so each customer's changes stay in order). Rows above the newest commit
 * mark may be half-inserted and wait for it. No FINAL: a row is recorded once
 * (a change is recorded only when newer than the last one), and were one ever
 * stored twice it would go out twice with one event_id, which subscribers
 * discard — while FINAL would merge the whole outbox on every poll.
 */
export async function nextEvents<N extends 'segment-changes' | 'customer-at-risk'>(
  clickhouse: ClickHouseClient,
  stream: OutboxStream<N>,
  after: Cursor,
  limit: number,
): Promise<{ events: ReturnType<OutboxStream<N>['toEvent']>[]; cursor: Cursor }> {
  const result = await clickhouse.query({
    // Text aliases differ from the column names: an alias would shadow the column in WHERE.
    query: `SELECT toString(event_id) AS id, customer_id, segment_type, \`from\`, \`to\`,
                   toString(as_of) AS as_of_text, toString(changed_at) AS changed_at_text, r_score, f_score, m_score,
                   rfm_segment, lifecycle_stage, value_tier, churn_probability, clv_12m, drivers
            FROM segment_changes
            WHERE ${stream.where} AND publish
              AND (changed_at, toString(event_id)) > ({changed_at:DateTime64(3, 'UTC')}, {event_id:String})
              AND changed_at <= (SELECT max(changed_at) FROM outbox_commits)
            ORDER BY changed_at, toString(event_id)
            LIMIT {limit:UInt32}`,
    query_params: { changed_at: after.changedAt, event_id: after.eventId, limit },
    format: 'JSONEachRow',
  });
  const rows = await result.json<OutboxRow>();
  const last = rows.at(-1);
  return {
    events: rows.map((row) => stream.toEvent(row)) as ReturnType<OutboxStream<N>['toEvent']>[],
    cursor: last ? { changedAt: last.changed_at_text, eventId: last.id } : after,
  };
}
