import type { CustomerGroup, SpendRow } from '@crm/models';
import type { ClickHouseClient } from '@crm/clickhouse';
import { purchasesAsOf } from './purchases.js';
import { AS_OF as T, dateParam, runContext, type RunContext } from './run-context.js';

/**
 * Per-customer sufficient statistics as of T, computed inside ClickHouse from
 * `purchases_as_of` (DESIGN.md): purchase days collapse same-day purchases;
 * x = purchase days − 1, t_x = days from first to last purchase day, T_c =
 * days from the first purchase day to T, all in UTC day numbers; frequency and
 * monetary count purchases placed in (T − W, T]; m̄ is the mean value of the
 * repeat purchase days (every purchase day but the first). For the
 * reactivated stage: the latest purchase day after a gap longer than W
 * (0: none) and each purchase day's last purchase time (sorted). For the
 * profile's signals: lifetime purchases, revenue, first and last purchase.
 *
 * One aggregation per customer over its purchases sorted by (day, time,
 * value), the days collapsed in arrays: a customer has a few purchases, and
 * grouping ~10 M purchases by (customer, day) first cost twice the CPU of the
 * whole statement now (a hash table of ~10 M string keys instead of ~1 M).
 */
function customerStatsSql(table: string, purchases: string, engine: string): string {
  const inWindow = `placed_at > ${T} - toIntervalDay({window_days:UInt32})`;
  return `
    CREATE TABLE ${table} ENGINE = ${engine} AS
    SELECT
      customer_id,
      toUInt32(length(days) - 1) AS x,
      toUInt32(days[-1] - days[1]) AS t_x,
      toUInt32(toRelativeDayNum(${T}) - days[1]) AS T_c,
      toUInt32(toRelativeDayNum(${T}) - days[-1]) AS recency_days,
      T_c AS days_since_first,
      toUInt32(arrayLast((d, before) -> d - before > {window_days:UInt32}, arrayPopFront(days), arrayPopBack(days))) AS return_after_gap_day,
      -- A day's last purchase is the last of its run in the sorted purchases: the one whose
      -- next purchase is on another day (-1 after the last: no day). Lambdas over arrays
      -- paired element by element, not indexing (sorted[i + 1]), which cost twice the time.
      arrayMap(p -> p.2, arrayFilter((p, next) -> p.1 != next, sorted, arrayPushBack(arrayPopFront(arrayMap(p -> toInt64(p.1), sorted)), -1))) AS day_last_ats,
      frequency,
      monetary,
      -- m̄: the value of every purchase day but the first, over x (exact decimals until the division).
      if(x = 0, 0, toFloat64(revenue - arraySum(p -> if(p.1 = days[1], p.3, toDecimal128(0, 4)), sorted)) / x) AS m_bar,
      purchases,
      revenue,
      first_purchase_at,
      last_purchase_at
    FROM
    (
      SELECT
        customer_id,
        arraySort(groupArray((toRelativeDayNum(placed_at), placed_at, value))) AS sorted,
        -- The purchase days: the sorted days without repeats (arrayCompact drops consecutive duplicates).
        arrayCompact(arrayMap(p -> p.1, sorted)) AS days,
        toUInt32(countIf(${inWindow})) AS frequency,
        CAST(sumIf(value, ${inWindow}) AS Decimal(38, 4)) AS monetary,
        CAST(sum(value) AS Decimal(38, 4)) AS revenue,
        count() AS purchases,
        min(placed_at) AS first_purchase_at,
        max(placed_at) AS last_purchase_at
      FROM ${purchases}
      GROUP BY customer_id
    )`;
}

/** The statistics of every customer with a purchase in `purchases`, in a scratch table. */
export async function customerStatistics(ctx: RunContext, purchases: string, asOf: Date, windowDays: number): Promise<string> {
  const stats = ctx.table('stats');
  await ctx.command(customerStatsSql(stats, purchases, ctx.engine()), { as_of: dateParam(asOf), window_days: windowDays });
  return stats;
}

/**
 * The MBG/NBD inputs: customers grouped by (x, t_x, T) — far fewer groups than customers —
 * in a fixed order: a fit's sums depend on the order of their terms in the last bits, and the
 * same data must give the same fit (a fit near the edge of converging did in some orders only).
 */
export async function customerGroups(ctx: RunContext, stats: string): Promise<CustomerGroup[]> {
  const rows = await ctx.select<{ x: number; t_x: number; T: number; count: string | number }>(
    `SELECT x, t_x, T_c AS T, count() AS count FROM ${stats} GROUP BY x, t_x, T_c ORDER BY x, t_x, T_c`,
  );
  return rows.map((g) => ({ x: g.x, t_x: g.t_x, T: g.T, count: Number(g.count) }));
}

/** The Gamma-Gamma inputs: repeat buyers grouped by (x, m̄), in a fixed order (as customerGroups). */
export async function spendRows(ctx: RunContext, stats: string): Promise<SpendRow[]> {
  const rows = await ctx.select<{ x: number; mbar: number; count: string | number }>(
    `SELECT x, m_bar AS mbar, count() AS count FROM ${stats} WHERE x >= 1 AND m_bar > 0 GROUP BY x, m_bar ORDER BY x, m_bar`,
  );
  return rows.map((r) => ({ x: r.x, mbar: r.mbar, count: Number(r.count) }));
}

/**
 * Every buyer's summary as of T — frequency (x), recency (t_x), T (T_c) and
 * monetary (m̄), the columns a `lifetimes` user starts from — as TSV with a
 * header: the input of the scoring benchmark's peer, from these statistics.
 */
export async function customerSummaryTsv(clickhouse: ClickHouseClient, asOf: Date, windowDays: number): Promise<string> {
  const ctx = runContext(clickhouse);
  try {
    const stats = await customerStatistics(ctx, purchasesAsOf(), asOf, windowDays);
    const result = await clickhouse.query({
      query: `SELECT x AS frequency, t_x AS recency, T_c AS T, m_bar AS monetary FROM ${stats}`,
      format: 'TabSeparatedWithNames',
    });
    return await result.text();
  } finally {
    await ctx.dropAll();
  }
}
