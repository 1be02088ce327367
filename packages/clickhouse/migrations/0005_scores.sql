-- Scores on the profile, their history per scoring run, and the model fits behind them
-- (definitions: DESIGN.md "Metric definitions").
ALTER TABLE {database}.customer_profiles ADD COLUMN IF NOT EXISTS recency_days Nullable(UInt32) AFTER last_nps;
ALTER TABLE {database}.customer_profiles ADD COLUMN IF NOT EXISTS frequency UInt32 AFTER recency_days;
ALTER TABLE {database}.customer_profiles ADD COLUMN IF NOT EXISTS monetary Decimal(38, 4) AFTER frequency;
ALTER TABLE {database}.customer_profiles ADD COLUMN IF NOT EXISTS r_score Nullable(UInt8) AFTER monetary;
ALTER TABLE {database}.customer_profiles ADD COLUMN IF NOT EXISTS f_score Nullable(UInt8) AFTER r_score;
ALTER TABLE {database}.customer_profiles ADD COLUMN IF NOT EXISTS m_score Nullable(UInt8) AFTER f_score;
ALTER TABLE {database}.customer_profiles ADD COLUMN IF NOT EXISTS rfm_segment LowCardinality(String) AFTER m_score;
ALTER TABLE {database}.customer_profiles ADD COLUMN IF NOT EXISTS lifecycle_stage LowCardinality(String) AFTER rfm_segment;
ALTER TABLE {database}.customer_profiles ADD COLUMN IF NOT EXISTS value_tier LowCardinality(Nullable(String)) AFTER lifecycle_stage;
ALTER TABLE {database}.customer_profiles ADD COLUMN IF NOT EXISTS p_alive Nullable(Float64) AFTER value_tier;
ALTER TABLE {database}.customer_profiles ADD COLUMN IF NOT EXISTS churn_probability Nullable(Float64) AFTER p_alive;
ALTER TABLE {database}.customer_profiles ADD COLUMN IF NOT EXISTS expected_purchases_90d Nullable(Float64) AFTER churn_probability;
ALTER TABLE {database}.customer_profiles ADD COLUMN IF NOT EXISTS clv_12m Nullable(Float64) AFTER expected_purchases_90d;

-- One row per customer per scoring as_of; re-scoring the same as_of replaces it.
CREATE TABLE IF NOT EXISTS {database}.customer_scores_history
(
    as_of                  DateTime64(3, 'UTC'),
    customer_id            String,
    recency_days           Nullable(UInt32),
    frequency              UInt32,
    monetary               Decimal(38, 4),
    r_score                Nullable(UInt8),
    f_score                Nullable(UInt8),
    m_score                Nullable(UInt8),
    rfm_segment            LowCardinality(String),
    lifecycle_stage        LowCardinality(String),
    value_tier             LowCardinality(Nullable(String)),
    p_alive                Nullable(Float64),
    churn_probability      Nullable(Float64),
    expected_purchases_90d Nullable(Float64),
    clv_12m                Nullable(Float64),
    purchases_total        UInt64,
    revenue_total          Decimal(38, 4),
    updated_at             DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (customer_id, as_of);

CREATE TABLE IF NOT EXISTS {database}.model_fits
(
    as_of          DateTime64(3, 'UTC'),
    model          LowCardinality(String),
    params         Map(String, Float64),
    log_likelihood Float64,
    customers      UInt64,
    groups         UInt64,
    iterations     UInt32,
    fitted_at      DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(fitted_at)
ORDER BY (as_of, model);
