-- The suppression list (docs/PRIVACY.md): one row per erasure, with the anonymous ids that were
-- stitched to the customer when it was erased (their identity links are erased with it, so
-- they are kept here). Ingest and `crm dlq replay` drop later events carrying these ids.
-- The list itself is the one place an erased id stays: without it the id could not be suppressed.
CREATE TABLE IF NOT EXISTS {database}.erasures
(
    customer_id   String,
    anonymous_ids Array(String),
    erased_at     DateTime64(3, 'UTC'),
    event_id      UUID
)
ENGINE = ReplacingMergeTree
ORDER BY (customer_id, event_id);
