import { columnNames, SEGMENT_CHANGES as OUTBOX_TABLE, type ClickHouseClient, type ColumnOf } from '@crm/clickhouse';
import type { CustomerAtRiskEvent, RiskDriver, SegmentChangeEvent } from '@crm/events';
import type { TopicKey } from '@crm/kafka';

/** A position among outbox rows by (changed_at, event_id). */
export interface Cursor {
  changedAt: string;
  eventId: string;
}

export const START: Cursor = { changedAt: '1970-01-01 00:00:00.000', eventId: '' };

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

/**
 * The outbox columns the publisher reads (all but `publish`, which only
 * selects rows), instants and ids as text. Text aliases differ from the
 * column names: an alias would shadow the column in WHERE.
 */
const AS_TEXT: Partial<Record<ColumnOf<typeof OUTBOX_TABLE>, string>> = {
  event_id: 'toString(event_id) AS id',
  as_of: 'toString(as_of) AS as_of_text',
  changed_at: 'toString(changed_at) AS changed_at_text',
};
const OUTBOX_SELECT = columnNames(OUTBOX_TABLE)
  .filter((c) => c !== 'publish')
  .map((c) => AS_TEXT[c] ?? `\`${c}\``)
  .join(', ');

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

/** Every recorded change, risk decisions included (segment_type risk: to at_risk or recovered), so a fold arrives at the profiles. */
export const SEGMENT_CHANGES: OutboxStream<'segment-changes'> = {
  name: 'segment_changes',
  schema: 'segment-changes',
  topic: 'segmentChanges',
  where: "segment_type IN ('rfm', 'lifecycle', 'tier', 'risk')",
  toEvent: ({ id, as_of_text, changed_at_text, drivers: _, segment_type, ...rest }) => ({
    ...rest,
    segment_type: segment_type as SegmentChangeEvent['segment_type'],
    event_id: id,
    as_of: iso(as_of_text),
    changed_at: iso(changed_at_text),
  }),
};

/** Entering risk, as the alert marketing tools act on; recoveries end a flow on crm.segment-changes.v1 (segment_type risk). */
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

/** A commit mark: one committed write (docs/SCORING.md), named by its changed_at. */
export interface Mark {
  changedAt: string;
  committedAt: string;
}

/** Changes whenever a commit mark appears, whatever its changed_at: polling stays one tiny query. */
export async function commitMarks(clickhouse: ClickHouseClient): Promise<string> {
  const result = await clickhouse.query({ query: 'SELECT count() AS n FROM outbox_commits', format: 'JSONEachRow' });
  return String((await result.json<{ n: string }>())[0]?.n ?? 0);
}

/**
 * The publisher's position before commit marks were read by id: the last row
 * sent by (changed_at, event_id). Marks up to it were published then.
 */
export async function readLegacyCursor(clickhouse: ClickHouseClient, stream: OutboxStream): Promise<Cursor> {
  const result = await clickhouse.query({
    query: `SELECT toString(argMax(changed_at, updated_at)) AS changed_at, argMax(event_id, updated_at) AS event_id
            FROM publisher_progress WHERE stream = {stream:String} HAVING count() > 0`,
    query_params: { stream: stream.name },
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ changed_at: string; event_id: string }>();
  return row ? { changedAt: row.changed_at, eventId: row.event_id } : START;
}

/**
 * Where to look for unpublished marks: from the newest mark this stream
 * published, minus `graceMs` — a mark becomes visible within moments of its
 * server-side committed_at, so one older than that cannot still appear.
 */
export async function readLowWater(clickhouse: ClickHouseClient, stream: OutboxStream, graceMs: number): Promise<string> {
  const result = await clickhouse.query({
    query: `SELECT toString(max(committed_at) - toIntervalMillisecond({grace:UInt32})) AS low
            FROM publisher_marks WHERE stream = {stream:String} HAVING count() > 0`,
    query_params: { stream: stream.name, grace: graceMs },
    format: 'JSONEachRow',
  });
  return (await result.json<{ low: string }>())[0]?.low ?? START.changedAt;
}

/** Where one stream stands: marks before `low` are all published; marks from before leases up to `legacy`. */
export interface Progress {
  low: string;
  legacy: Cursor;
}

/** The commit marks a stream still owes (has not published). */
export interface Owed {
  stream: OutboxStream;
  marks: Mark[];
}

/**
 * The oldest `limit` commit marks some of `streams` have not published, and
 * which of them each stream owes — one statement for all streams. Read by
 * id, so a mark that became visible after a later one is still found.
 */
export async function pendingMarks(
  clickhouse: ClickHouseClient,
  streams: readonly { stream: OutboxStream; progress: Progress }[],
  limit: number,
): Promise<{ count: number; owed: Owed[] }> {
  const params: Record<string, string | number> = { limit };
  const owes = streams.map(({ stream, progress }, i) => {
    Object.assign(params, { [`low_${i}`]: progress.low, [`legacy_${i}`]: progress.legacy.changedAt, [`stream_${i}`]: stream.name });
    const low = `{low_${i}:DateTime64(3, 'UTC')}`;
    // As if grouped over the rows from this stream's low only: such a row exists when the newest does.
    return `(max(committed_at) >= ${low} AND changed_at >= {legacy_${i}:DateTime64(3, 'UTC')}
             AND changed_at NOT IN (SELECT changed_at FROM publisher_marks WHERE stream = {stream_${i}:String} AND committed_at >= ${low}))`;
  });
  const least = (name: string) => `least(${streams.map((_, i) => `{${name}_${i}:DateTime64(3, 'UTC')}`).join(', ')})`;
  const result = await clickhouse.query({
    // Text aliases differ from the column names: an alias would shadow the column in WHERE.
    query: `SELECT toString(changed_at) AS changed_text, toString(min(committed_at)) AS committed_text, [${owes.join(', ')}] AS owed_by
            FROM outbox_commits
            WHERE committed_at >= ${least('low')} AND changed_at >= ${least('legacy')}
            GROUP BY changed_at
            HAVING has(owed_by, 1)
            ORDER BY changed_at
            LIMIT {limit:UInt32}`,
    query_params: params,
    format: 'JSONEachRow',
  });
  const rows = await result.json<{ changed_text: string; committed_text: string; owed_by: number[] }>();
  return {
    count: rows.length,
    owed: streams.map(({ stream }, i) => ({
      stream,
      marks: rows.filter((r) => r.owed_by[i]).map((r) => ({ changedAt: r.changed_text, committedAt: r.committed_text })),
    })),
  };
}

/**
 * How far the publisher is behind on a stream: commit marks recorded and those not yet
 * published (marks up to the legacy cursor were published before marks were read by id).
 * What `crm demo` and the fault suite wait on before they read the topics.
 */
export async function publisherBacklog(clickhouse: ClickHouseClient, stream: OutboxStream): Promise<{ marks: number; pending: number }> {
  const legacy = await readLegacyCursor(clickhouse, stream);
  const result = await clickhouse.query({
    query: `SELECT uniqExact(changed_at) AS marks,
                   uniqExactIf(changed_at, changed_at >= {legacy:DateTime64(3, 'UTC')}
                     AND changed_at NOT IN (SELECT changed_at FROM publisher_marks WHERE stream = {stream:String})) AS pending
            FROM outbox_commits`,
    query_params: { stream: stream.name, legacy: legacy.changedAt },
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ marks: number | string; pending: number | string }>();
  return { marks: Number(row?.marks ?? 0), pending: Number(row?.pending ?? 0) };
}

/** Recorded only after Kafka acknowledged every row of the marks: a crash before it resends them, never loses them. */
export async function recordPublished(clickhouse: ClickHouseClient, published: readonly Owed[]): Promise<void> {
  const values = published.flatMap(({ stream, marks }) => marks.map((m) => ({ stream: stream.name, changed_at: m.changedAt, committed_at: m.committedAt })));
  if (values.length === 0) return;
  await clickhouse.insert({ table: 'publisher_marks', values, format: 'JSONEachRow' });
}

/** Outbox rows that could not be encoded: kept in publisher_skipped with the reason, and passed over. */
export async function recordSkipped(clickhouse: ClickHouseClient, skipped: readonly { stream: OutboxStream; eventId: string; changedAt: string; reason: string }[]): Promise<void> {
  if (skipped.length === 0) return;
  await clickhouse.insert({
    table: 'publisher_skipped',
    values: skipped.map((s) => ({ stream: s.stream.name, event_id: s.eventId, changed_at: s.changedAt, reason: s.reason })),
    format: 'JSONEachRow',
  });
}

/** One outbox row as a stream's event, or why it cannot be one. */
export interface StreamRow {
  stream: OutboxStream;
  event: SegmentChangeEvent | CustomerAtRiskEvent | undefined;
  id: string;
  changedAt: string;
  error?: string;
}

/**
 * The rows after `after`, by (changed_at, event_id), of the marks each stream
 * owes, read once for all streams: one row becomes an event of each stream
 * that selects it and owes its mark. Ordered so each customer's changes stay
 * in order. No FINAL: a row is recorded once (a change is recorded only when
 * newer than the last one), and were one ever stored twice it would go out
 * twice with one event_id, which subscribers discard — while FINAL would merge
 * the whole outbox on every poll.
 */
export async function markEvents(clickhouse: ClickHouseClient, owed: readonly Owed[], after: Cursor, limit: number): Promise<{ rows: StreamRow[]; cursor: Cursor }> {
  const params: Record<string, unknown> = { changed_at: after.changedAt, event_id: after.eventId, limit };
  const selects = owed.map(({ stream, marks }, i) => {
    params[`marks_${i}`] = marks.map((m) => m.changedAt);
    return `(${stream.where} AND changed_at IN {marks_${i}:Array(DateTime64(3, 'UTC'))})`;
  });
  const result = await clickhouse.query({
    query: `SELECT ${OUTBOX_SELECT}, [${selects.join(', ')}] AS for_streams
            FROM segment_changes
            WHERE publish AND (${selects.join(' OR ')})
              AND (changed_at, toString(event_id)) > ({changed_at:DateTime64(3, 'UTC')}, {event_id:String})
            ORDER BY changed_at, toString(event_id)
            LIMIT {limit:UInt32}`,
    query_params: params,
    format: 'JSONEachRow',
  });
  const rows = await result.json<OutboxRow & { for_streams: number[] }>();
  const last = rows.at(-1);
  return {
    rows: rows.flatMap((row) =>
      owed.flatMap(({ stream }, i): StreamRow[] => {
        if (!row.for_streams[i]) return [];
        try {
          return [{ stream, event: stream.toEvent(row), id: row.id, changedAt: row.changed_at_text }];
        } catch (error) {
          return [{ stream, event: undefined, id: row.id, changedAt: row.changed_at_text, error: (error as Error).message }];
        }
      }),
    ),
    cursor: last ? { changedAt: last.changed_at_text, eventId: last.id } : after,
  };
}
