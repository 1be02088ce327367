-- What the publisher has sent, per stream: the last outbox row by (changed_at, event_id).
CREATE TABLE IF NOT EXISTS {database}.publisher_progress
(
    stream     LowCardinality(String),
    changed_at DateTime64(3, 'UTC'),
    event_id   String,
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (stream, updated_at);
