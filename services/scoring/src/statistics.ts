import type { CustomerGroup, SpendRow } from '@crm/models';
import { AS_OF as T, dateParam, type RunContext } from './run-context.js';

/**
 * Per-customer sufficient statistics as of T, computed inside ClickHouse from
 * `purchases_as_of` (DESIGN.md): purchase days collapse same-day purchases;
 * x = purchase days − 1, t_x = days from first to last purchase day, T_c =
 * days from the first purchase day to T, all in UTC day numbers; frequency and
 * monetary count purchases placed in (T − W, T]; m̄ is the mean value of the
 * repeat purchase days (every purchase day but the first). For the
 * reactivated stage: the latest purchase day after a gap longer than W
 * (0: none) and each purchase day's last purchase time (sorted).
 */
function customerStatsSql(table: string, purchases: string, engine: string): string {
  return `
    CREATE TABLE ${table} ENGINE = ${engine} AS
    SELECT
      customer_id,
      toUInt32(count() - 1) AS x,
      toUInt32(max(day) - min(day)) AS t_x,
      toUInt32(toRelativeDayNum(${T}) - min(day)) AS T_c,
      toUInt32(toRelativeDayNum(${T}) - max(day)) AS recency_days,
      toUInt32(toRelativeDayNum(${T}) - min(day)) AS days_since_first,
      toUInt32(arrayLast((d, before) -> d - before > {window_days:UInt32}, arrayPopFront(arraySort(groupArray(day))),
                         arrayPopBack(arraySort(groupArray(day))))) AS return_after_gap_day,
      arraySort(groupArray(day_last_at)) AS day_last_ats,
      toUInt32(sum(window_purchases)) AS frequency,
      CAST(sum(window_value) AS Decimal(38, 4)) AS monetary,
      if(count() = 1, 0, toFloat64(sum(day_value) - argMin(day_value, day)) / (count() - 1)) AS m_bar
    FROM
    (
      SELECT
        customer_id,
        toRelativeDayNum(placed_at) AS day,
        sum(value) AS day_value,
        max(placed_at) AS day_last_at,
        countIf(placed_at > ${T} - toIntervalDay({window_days:UInt32})) AS window_purchases,
        sumIf(value, placed_at > ${T} - toIntervalDay({window_days:UInt32})) AS window_value
      FROM ${purchases}
      GROUP BY customer_id, day
    )
    GROUP BY customer_id`;
}

/** The statistics of every customer with a purchase in `purchases`, in a scratch table. */
export async function customerStatistics(ctx: RunContext, purchases: string, asOf: Date, windowDays: number): Promise<string> {
  const stats = ctx.table('stats');
  await ctx.command(customerStatsSql(stats, purchases, ctx.engine('customer_id')), { as_of: dateParam(asOf), window_days: windowDays });
  return stats;
}

/** The MBG/NBD inputs: customers grouped by (x, t_x, T) — far fewer groups than customers. */
export async function customerGroups(ctx: RunContext, stats: string): Promise<CustomerGroup[]> {
  const rows = await ctx.select<{ x: number; t_x: number; T: number; count: string | number }>(
    `SELECT x, t_x, T_c AS T, count() AS count FROM ${stats} GROUP BY x, t_x, T_c`,
  );
  return rows.map((g) => ({ x: g.x, t_x: g.t_x, T: g.T, count: Number(g.count) }));
}

/** The Gamma-Gamma inputs: repeat buyers grouped by (x, m̄). */
export async function spendRows(ctx: RunContext, stats: string): Promise<SpendRow[]> {
  const rows = await ctx.select<{ x: number; mbar: number; count: string | number }>(
    `SELECT x, m_bar AS mbar, count() AS count FROM ${stats} WHERE x >= 1 AND m_bar > 0 GROUP BY x, m_bar`,
  );
  return rows.map((r) => ({ x: r.x, mbar: r.mbar, count: Number(r.count) }));
}
