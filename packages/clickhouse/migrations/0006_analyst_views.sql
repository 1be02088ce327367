-- Analysts' views (definitions: DESIGN.md "Metric definitions").

-- RFM grid: customers and money per (R, F) cell of the current profiles.
CREATE VIEW IF NOT EXISTS {database}.rfm_grid AS
SELECT
    r_score,
    f_score,
    any(rfm_segment)               AS rfm_segment,
    count()                        AS customers,
    sum(monetary)                  AS monetary_total,
    round(avg(toFloat64(monetary)), 2) AS monetary_avg,
    round(avg(m_score), 2)         AS m_score_avg
FROM {database}.customer_profiles FINAL
WHERE r_score IS NOT NULL
GROUP BY r_score, f_score
ORDER BY r_score DESC, f_score DESC;

-- Monthly churn and retention from the scoring history: churn rate = customers who churned in
-- the month ÷ customers active at its start × 100 %; retention = 100 % − churn. A customer's
-- stage at an instant is the stage of the last scoring run at or before it; active means
-- new, active, at_risk or reactivated.
CREATE VIEW IF NOT EXISTS {database}.churn_retention_monthly AS
SELECT
    month,
    countIf(start_stage IN ('new', 'active', 'at_risk', 'reactivated')) AS active_at_start,
    countIf(start_stage IN ('new', 'active', 'at_risk', 'reactivated') AND end_stage = 'churned') AS churned,
    if(active_at_start = 0, NULL, round(100 * churned / active_at_start, 2)) AS churn_rate_pct,
    if(active_at_start = 0, NULL, round(100 - 100 * churned / active_at_start, 2)) AS retention_rate_pct
FROM
(
    SELECT
        m.month AS month,
        h.customer_id AS customer_id,
        argMaxIf(h.lifecycle_stage, h.as_of, h.as_of <= toDateTime64(m.month, 3, 'UTC')) AS start_stage,
        argMaxIf(h.lifecycle_stage, h.as_of, h.as_of < toDateTime64(m.month + INTERVAL 1 MONTH, 3, 'UTC')) AS end_stage
    FROM (SELECT DISTINCT toStartOfMonth(as_of) AS month FROM {database}.customer_scores_history) AS m
    CROSS JOIN (SELECT customer_id, as_of, lifecycle_stage FROM {database}.customer_scores_history FINAL) AS h
    GROUP BY month, customer_id
)
GROUP BY month
ORDER BY month;

-- Acquisition cohorts (month of the first purchase) × months since: the share of the cohort
-- that purchased in that month.
CREATE VIEW IF NOT EXISTS {database}.cohort_retention AS
WITH firsts AS
(
    SELECT customer_id, toStartOfMonth(min(placed_at)) AS cohort_month FROM {database}.purchases GROUP BY customer_id
)
SELECT
    f.cohort_month AS cohort_month,
    toUInt32(dateDiff('month', f.cohort_month, toStartOfMonth(p.placed_at))) AS months_since_first,
    uniqExact(p.customer_id) AS purchasing_customers,
    any(s.cohort_size) AS cohort_size,
    round(100 * purchasing_customers / cohort_size, 2) AS retention_pct
FROM {database}.purchases AS p
INNER JOIN firsts AS f ON f.customer_id = p.customer_id
INNER JOIN (SELECT cohort_month, count() AS cohort_size FROM firsts GROUP BY cohort_month) AS s ON s.cohort_month = f.cohort_month
GROUP BY cohort_month, months_since_first
ORDER BY cohort_month, months_since_first;

-- Satisfaction by month: CSAT top-two box, NPS (% promoters 9–10 − % detractors 0–6),
-- average CES, and CSI = score / expectation where an expectation was given.
CREATE VIEW IF NOT EXISTS {database}.satisfaction_monthly AS
SELECT
    toStartOfMonth(answered_at) AS month,
    countIf(kind = 'csat') AS csat_responses,
    if(csat_responses = 0, NULL, round(100 * countIf(kind = 'csat' AND score >= scale_max - 1) / csat_responses, 2)) AS csat_satisfied_pct,
    countIf(kind = 'nps') AS nps_responses,
    if(nps_responses = 0, NULL, round(100 * (countIf(kind = 'nps' AND score >= 9) - countIf(kind = 'nps' AND score <= 6)) / nps_responses, 2)) AS nps,
    countIf(kind = 'ces') AS ces_responses,
    if(ces_responses = 0, NULL, round(avgIf(score, kind = 'ces'), 2)) AS ces_avg,
    if(countIf(expectation > 0) = 0, NULL, round(avgIf(score / expectation, expectation > 0), 3)) AS csi_avg
FROM {database}.survey_responses_as_of(as_of = now64(3))
GROUP BY month
ORDER BY month;
