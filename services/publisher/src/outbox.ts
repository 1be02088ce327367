import type { ClickHouseClient } from '@crm/clickhouse';
import type { SegmentChangeEvent } from '@crm/events';

/** Where publishing stands: the last outbox row sent, by (changed_at, event_id). */
export interface Cursor {
  changedAt: string;
  eventId: string;
}

const START: Cursor = { changedAt: '1970-01-01 00:00:00.000', eventId: '' };

export async function readCursor(clickhouse: ClickHouseClient): Promise<Cursor> {
  const result = await clickhouse.query({
    query: `SELECT toString(argMax(changed_at, updated_at)) AS changed_at, argMax(event_id, updated_at) AS event_id
            FROM publisher_progress WHERE stream = 'segment_changes' HAVING count() > 0`,
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ changed_at: string; event_id: string }>();
  return row ? { changedAt: row.changed_at, eventId: row.event_id } : START;
}

/** Recorded only after Kafka acknowledged the batch: a crash before it resends, never loses. */
export async function writeCursor(clickhouse: ClickHouseClient, cursor: Cursor): Promise<void> {
  await clickhouse.insert({
    table: 'publisher_progress',
    values: [{ stream: 'segment_changes', changed_at: cursor.changedAt, event_id: cursor.eventId }],
    format: 'JSONEachRow',
  });
}

interface OutboxRow {
  id: string;
  customer_id: string;
  segment_type: SegmentChangeEvent['segment_type'];
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
}

/** The next outbox rows after the cursor, oldest first (so each customer's changes stay in order). */
export async function nextChanges(clickhouse: ClickHouseClient, after: Cursor, limit: number): Promise<{ events: SegmentChangeEvent[]; cursor: Cursor }> {
  const result = await clickhouse.query({
    // Text aliases differ from the column names: an alias would shadow the column in WHERE.
    query: `SELECT toString(event_id) AS id, customer_id, segment_type, \`from\`, \`to\`,
                   toString(as_of) AS as_of_text, toString(changed_at) AS changed_at_text, r_score, f_score, m_score,
                   rfm_segment, lifecycle_stage, value_tier, churn_probability, clv_12m
            FROM segment_changes FINAL
            WHERE (changed_at, toString(event_id)) > ({changed_at:DateTime64(3, 'UTC')}, {event_id:String})
            ORDER BY changed_at, toString(event_id)
            LIMIT {limit:UInt32}`,
    query_params: { changed_at: after.changedAt, event_id: after.eventId, limit },
    format: 'JSONEachRow',
  });
  const rows = await result.json<OutboxRow>();
  const last = rows.at(-1);
  const iso = (text: string) => new Date(`${text.replace(' ', 'T')}Z`).toISOString();
  return {
    events: rows.map(({ id, as_of_text, changed_at_text, ...rest }) => ({
      ...rest,
      event_id: id,
      as_of: iso(as_of_text),
      changed_at: iso(changed_at_text),
    })),
    cursor: last ? { changedAt: last.changed_at_text, eventId: last.id } : after,
  };
}
