-- One current row per customer, rewritten by each scoring run (query with FINAL:
-- a run appends a new version of every row and the newest updated_at wins).
CREATE TABLE IF NOT EXISTS {database}.customer_profiles
(
    customer_id       String,
    first_seen_at     DateTime64(3, 'UTC'),
    last_seen_at      DateTime64(3, 'UTC'),
    first_purchase_at Nullable(DateTime64(3, 'UTC')),
    last_purchase_at  Nullable(DateTime64(3, 'UTC')),
    purchases_total   UInt64,
    revenue_total     Decimal(38, 4),
    avg_order_value   Nullable(Decimal(38, 4)),
    as_of             DateTime64(3, 'UTC'),
    updated_at        DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY customer_id;
