-- Analysts' views, corrected (docs/METRICS.md "Views"; definitions: DESIGN.md "Metric definitions").

-- Monthly churn and retention from the scoring history: churn rate = customers who churned in
-- the month ÷ customers active (new, active, at_risk, reactivated) at its start × 100 %;
-- retention = 100 % − churn. A customer's stage at the start of a month is that of their last
-- run before it, at its end that of their last run in or before it. Only complete months are
-- listed (the current one is still running), and only months with scoring runs.
-- One pass over the history: per customer and month their last stage, and from consecutive
-- record months the changes of the active count (+1 the month after an active record, −1 the
-- month after the next record) and churns (active, then churned at the next record month);
-- a running sum over months turns the changes into the active count at each month's start.
CREATE OR REPLACE VIEW {database}.churn_retention_monthly AS
SELECT
    month,
    toUInt64(active_at_start) AS active_at_start,
    churned,
    if(active_at_start = 0, NULL, round(100 * churned / active_at_start, 2)) AS churn_rate_pct,
    if(active_at_start = 0, NULL, round(100 - 100 * churned / active_at_start, 2)) AS retention_rate_pct
FROM
(
    SELECT
        month,
        sum(delta) OVER (ORDER BY month ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS active_at_start,
        churned,
        in_grid
    FROM
    (
        SELECT assumeNotNull(tupleElement(e, 1)) AS month, sum(tupleElement(e, 2)) AS delta, sum(tupleElement(e, 3)) AS churned,
               max(tupleElement(e, 4)) AS in_grid
        FROM
        (
            SELECT
                record_month,
                stage IN ('new', 'active', 'at_risk', 'reactivated') AS was_active,
                leadInFrame(toNullable(record_month)) OVER w AS next_month,
                leadInFrame(stage) OVER w AS next_stage
            FROM
            (
                SELECT customer_id, toStartOfMonth(as_of) AS record_month, argMax(lifecycle_stage, as_of) AS stage
                FROM {database}.customer_scores_history FINAL
                GROUP BY customer_id, record_month
            )
            WINDOW w AS (PARTITION BY customer_id ORDER BY record_month ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING)
        )
        ARRAY JOIN arrayFilter(t -> tupleElement(t, 1) IS NOT NULL, [
            (toNullable(record_month), toInt64(0), toUInt64(0), toUInt8(1)),
            (if(was_active, toNullable(addMonths(record_month, 1)), NULL), toInt64(1), toUInt64(0), toUInt8(0)),
            (if(was_active AND next_month IS NOT NULL, addMonths(next_month, 1), NULL), toInt64(-1), toUInt64(0), toUInt8(0)),
            (next_month, toInt64(0), toUInt64(was_active AND next_stage = 'churned'), toUInt8(0))
        ]) AS e
        GROUP BY month
    )
)
WHERE in_grid = 1 AND month < toStartOfMonth(now64(3))
ORDER BY month;

-- Acquisition cohorts (month of the first purchase) × months since: the share of the cohort
-- that purchased in that month, for every month from the cohort's to the month of the latest
-- purchase of anyone (0 % where nobody of the cohort bought). One pass over the purchases.
CREATE OR REPLACE VIEW {database}.cohort_retention AS
SELECT
    cohort_month,
    months_since_first,
    countIf(has(months, addMonths(cohort_month, months_since_first))) AS purchasing_customers,
    count() AS cohort_size,
    round(100 * purchasing_customers / cohort_size, 2) AS retention_pct
FROM
(
    SELECT months, cohort_month, max(last_month) OVER () AS newest_month
    FROM
    (
        SELECT groupUniqArray(toStartOfMonth(placed_at)) AS months, arrayMin(months) AS cohort_month, arrayMax(months) AS last_month
        FROM {database}.purchases
        GROUP BY customer_id
    )
)
ARRAY JOIN range(toUInt32(dateDiff('month', cohort_month, newest_month) + 1)) AS months_since_first
GROUP BY cohort_month, months_since_first
ORDER BY cohort_month, months_since_first;

-- Satisfaction by month: CSAT top-two box, NPS (% promoters 9–10 − % detractors 0–6),
-- average CES, and CSI = score / expectation per survey kind (where an expectation was given):
-- the kinds' scales differ, so their ratios are not averaged together.
CREATE OR REPLACE VIEW {database}.satisfaction_monthly AS
SELECT
    toStartOfMonth(answered_at) AS month,
    countIf(kind = 'csat') AS csat_responses,
    if(csat_responses = 0, NULL, round(100 * countIf(kind = 'csat' AND score >= scale_max - 1) / csat_responses, 2)) AS csat_satisfied_pct,
    countIf(kind = 'nps') AS nps_responses,
    if(nps_responses = 0, NULL, round(100 * (countIf(kind = 'nps' AND score >= 9) - countIf(kind = 'nps' AND score <= 6)) / nps_responses, 2)) AS nps,
    countIf(kind = 'ces') AS ces_responses,
    if(ces_responses = 0, NULL, round(avgIf(score, kind = 'ces'), 2)) AS ces_avg,
    if(countIf(kind = 'csat' AND expectation > 0) = 0, NULL, round(avgIf(score / expectation, kind = 'csat' AND expectation > 0), 3)) AS csat_csi,
    if(countIf(kind = 'nps' AND expectation > 0) = 0, NULL, round(avgIf(score / expectation, kind = 'nps' AND expectation > 0), 3)) AS nps_csi,
    if(countIf(kind = 'ces' AND expectation > 0) = 0, NULL, round(avgIf(score / expectation, kind = 'ces' AND expectation > 0), 3)) AS ces_csi
FROM {database}.survey_responses_as_of(as_of = now64(3))
GROUP BY month
ORDER BY month;
