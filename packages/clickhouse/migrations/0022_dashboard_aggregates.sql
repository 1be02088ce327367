-- The dashboard's aggregates (docs/METRICS.md "Dashboard aggregates"): the views whose every read
-- is a pass over all purchases, all score history or all profiles are computed once per full
-- scoring run into small tables, and the overview reads those. Each keeps the snapshots of the
-- last hour's refreshes (older ones are deleted by the refresh), told apart by computed_at (the
-- server's time of the refresh); readers take the newest, so a reader never sees a half-deleted one.

-- The 80/20 rule: the share of net revenue from the top 20 % of buyers by revenue (the ⌈0.2 n⌉
-- with the highest revenue_total; ties share a value, so which of them is taken changes nothing).
CREATE OR REPLACE VIEW {database}.revenue_concentration AS
SELECT
    count() AS buyers,
    sum(r) AS revenue_total,
    if(revenue_total = 0, NULL, round(100 * arraySum(arraySlice(arrayReverseSort(groupArray(r)), 1, toUInt64(ceil(buyers * 0.2)))) / revenue_total, 2)) AS top20_share_pct
FROM (SELECT toFloat64(revenue_total) AS r FROM {database}.customer_profiles FINAL WHERE purchases_total > 0);

CREATE TABLE IF NOT EXISTS {database}.cohort_retention_runs
(
    computed_at          DateTime64(3, 'UTC'),
    cohort_month         Date,
    months_since_first   UInt32,
    purchasing_customers UInt64,
    cohort_size          UInt64,
    retention_pct        Float64
)
ENGINE = MergeTree
ORDER BY (computed_at, cohort_month, months_since_first);

CREATE TABLE IF NOT EXISTS {database}.churn_retention_runs
(
    computed_at        DateTime64(3, 'UTC'),
    month              Date,
    active_at_start    UInt64,
    churned            UInt64,
    churn_rate_pct     Nullable(Float64),
    retention_rate_pct Nullable(Float64)
)
ENGINE = MergeTree
ORDER BY (computed_at, month);

CREATE TABLE IF NOT EXISTS {database}.revenue_concentration_runs
(
    computed_at     DateTime64(3, 'UTC'),
    buyers          UInt64,
    revenue_total   Float64,
    top20_share_pct Nullable(Float64)
)
ENGINE = MergeTree
ORDER BY computed_at;

CREATE TABLE IF NOT EXISTS {database}.satisfaction_runs
(
    computed_at        DateTime64(3, 'UTC'),
    month              Date,
    csat_responses     UInt64,
    csat_satisfied_pct Nullable(Float64),
    nps_responses      UInt64,
    nps                Nullable(Float64),
    ces_responses      UInt64,
    ces_avg            Nullable(Float64),
    csat_csi           Nullable(Float64),
    nps_csi            Nullable(Float64),
    ces_csi            Nullable(Float64)
)
ENGINE = MergeTree
ORDER BY (computed_at, month);
