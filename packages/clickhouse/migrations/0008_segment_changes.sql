-- The outbox of segment changes (DESIGN.md "Output events"): one row per customer whose RFM
-- segment, lifecycle stage or value tier differs from what was last recorded; `from` is null
-- on first assignment. event_id is name-based (UUID version-5 layout over SHA-1 of customer,
-- type, from, to and as_of), so a re-run of the same change yields the same id.
CREATE TABLE IF NOT EXISTS {database}.segment_changes
(
    event_id          UUID,
    customer_id       String,
    segment_type      LowCardinality(String),
    `from`            Nullable(String),
    `to`              String,
    as_of             DateTime64(3, 'UTC'),
    changed_at        DateTime64(3, 'UTC'),
    r_score           Nullable(UInt8),
    f_score           Nullable(UInt8),
    m_score           Nullable(UInt8),
    rfm_segment       String,
    lifecycle_stage   String,
    value_tier        Nullable(String),
    churn_probability Nullable(Float64),
    clv_12m           Nullable(Float64)
)
ENGINE = ReplacingMergeTree
ORDER BY (customer_id, segment_type, as_of, event_id);
