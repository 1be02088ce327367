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
export function customerStatsSql(table: string, purchases: string, engine = 'MergeTree ORDER BY customer_id'): string {
  const T = "{as_of:DateTime64(3, 'UTC')}";
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
