import type { ClickHouseClient } from '@crm/clickhouse';
import { dateParam } from './run-context.js';

/**
 * What the passage of time changes between two full runs, and whose profile it changes.
 *
 * Every day count of a profile (recency, T, the 30/90/365-day and NPS windows, the new and
 * reactivated stages) is a difference of UTC day numbers (DESIGN.md), so within one UTC day
 * the clock alone moves none of them; and a new day moves T for every buyer, hence every
 * P(alive), which only a full run recomputes (the schedule runs one when the day changes).
 * Within a day, the clock changes a customer's result only where an instant is compared with
 * T itself:
 *  - a purchase leaves the window (T − W, T] (frequency and monetary count purchases by
 *    their instant, statistics.ts);
 *  - an event stamped later than it was ingested becomes visible (the point-in-time views
 *    take events with occurred_at ≤ T): the incremental update at its arrival did not count it.
 * And the incremental consumer passes over messages the newest full run already counted
 * (older than it by FULL_RUN_OVERLAP_MS); one that ingest wrote later than that is taken here.
 * Events the incremental consumer does not follow also change profiles: clicks (engagement)
 * and the identity links they carry; with incremental updates off, every new event does.
 */
/**
 * Messages older than the newest full run by more than this were counted by it, so a fresh
 * incremental consumer group does not re-score the whole history one batch at a time.
 */
export const FULL_RUN_OVERLAP_MS = 60_000;

export function dueCustomersSql(incremental: boolean): string {
  const since = "{since:DateTime64(3, 'UTC')}";
  const until = "{until:DateTime64(3, 'UTC')}";
  const became = `occurred_at > ${since} AND occurred_at <= ${until}`;
  const arrived = `ingested_at > ${since} AND ingested_at <= ${until}`;
  // Ingested before it was due (the update at its arrival was as of a T before it), or late.
  const late = `ingested_at > occurred_at + toIntervalMillisecond(${FULL_RUN_OVERLAP_MS})`;
  const events = `(${became} AND occurred_at > ingested_at) OR (${arrived} AND occurred_at <= ${until}${incremental ? ` AND ${late}` : ''})`;
  const windowEdge = `placed_at > ${since} - toIntervalDay({window_days:UInt32}) AND placed_at <= ${until} - toIntervalDay({window_days:UInt32})`;
  return `
    SELECT DISTINCT customer_id FROM
    (
      SELECT customer_id FROM orders WHERE (${events}) OR (${windowEdge})
      UNION ALL SELECT customer_id FROM tickets WHERE ${events}
      UNION ALL SELECT customer_id FROM surveys WHERE ${events}
      UNION ALL
      -- A click counts for the owner of its anonymous id; any customer linked to it may be (or
      -- have been) that owner, and a new link can move earlier clicks to another customer.
      SELECT customer_id FROM identity_links
      WHERE anonymous_id IN (SELECT anonymous_id FROM clicks WHERE (${became}) OR (${arrived}))
    )`;
}

/** The customers whose results the interval (since, until] changed without a full run (dueCustomersSql). */
export async function dueCustomers(
  clickhouse: ClickHouseClient,
  interval: { since: Date; until: Date },
  windowDays: number,
  incremental: boolean,
): Promise<string[]> {
  const result = await clickhouse.query({
    query: dueCustomersSql(incremental),
    query_params: { since: dateParam(interval.since), until: dateParam(interval.until), window_days: windowDays },
    format: 'JSONEachRow',
  });
  return (await result.json<{ customer_id: string }>()).map((r) => r.customer_id);
}

/** The UTC day number of an instant (ClickHouse's toRelativeDayNum). */
export const utcDay = (at: Date | number) => Math.floor(new Date(at).getTime() / 86_400_000);

/**
 * What the schedule does at a tick: a full run when there was none (`lastFullRunMs` 0), when
 * the UTC day changed since the last one (every buyer's T moved), or when the full-run
 * interval has passed (fresh cut points, and the refit check); otherwise a pass over what
 * time changed.
 */
export function scheduledWork(now: Date, lastFullRunMs: number, fullRunIntervalSeconds: number): 'full' | 'time' {
  if (lastFullRunMs === 0) return 'full';
  if (utcDay(now) !== utcDay(lastFullRunMs)) return 'full';
  return now.getTime() - lastFullRunMs >= fullRunIntervalSeconds * 1000 ? 'full' : 'time';
}
