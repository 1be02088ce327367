/**
 * Change detection into the `segment_changes` outbox, inside ClickHouse: for
 * each customer of the run and each segmentation (rfm, lifecycle, tier), a row
 * when the new value differs from the last one recorded (`from` null on first
 * assignment). An unchanged customer produces nothing, so a run with no new
 * data records nothing.
 *
 * The event id is name-based: SHA-1 of customer, type, from, to and as_of
 * (joined by U+001F) laid out as a version-5 UUID — the same bytes as
 * `nameBasedUuid` in @crm/events computes, so any component can recompute it.
 */
export function segmentChangesSql(rowsTable: string): string {
  const name = "concat(customer_id, '\\x1f', segment_type, '\\x1f', ifNull(from_value, ''), '\\x1f', to_value, '\\x1f', toString(as_of))";
  const h = `lower(hex(SHA1(${name})))`;
  const uuidText = `concat(substring(h, 1, 8), '-', substring(h, 9, 4), '-5', substring(h, 14, 3), '-',
      substring('89ab', (intDiv(reinterpretAsUInt8(unhex(substring(h, 17, 2))), 16) % 4) + 1, 1), substring(h, 18, 3), '-', substring(h, 21, 12))`;
  return `
    INSERT INTO segment_changes
      (event_id, customer_id, segment_type, \`from\`, \`to\`, as_of, changed_at, r_score, f_score, m_score,
       rfm_segment, lifecycle_stage, value_tier, churn_probability, clv_12m)
    SELECT toUUID(${uuidText}) AS event_id, customer_id, segment_type, from_value, to_value, as_of, now64(3),
           r_score, f_score, m_score, rfm_segment, lifecycle_stage, value_tier, churn_probability, clv_12m
    FROM
    (
      SELECT *, ${h} AS h
      FROM
      (
        SELECT r.customer_id AS customer_id, seg.1 AS segment_type, seg.2 AS to_value, last.value AS from_value, r.as_of AS as_of,
               r.r_score AS r_score, r.f_score AS f_score, r.m_score AS m_score, r.rfm_segment AS rfm_segment,
               r.lifecycle_stage AS lifecycle_stage, r.value_tier AS value_tier, r.churn_probability AS churn_probability, r.clv_12m AS clv_12m
        FROM ${rowsTable} AS r
        ARRAY JOIN [('rfm', r.rfm_segment), ('lifecycle', r.lifecycle_stage), ('tier', ifNull(r.value_tier, ''))] AS seg
        LEFT JOIN
        (
          SELECT customer_id, segment_type, argMax(\`to\`, (as_of, changed_at)) AS value
          FROM segment_changes
          GROUP BY customer_id, segment_type
        ) AS last ON last.customer_id = r.customer_id AND last.segment_type = seg.1
        WHERE seg.2 != '' AND (last.value IS NULL OR last.value != seg.2)
      )
    )
    SETTINGS join_use_nulls = 1`;
}
