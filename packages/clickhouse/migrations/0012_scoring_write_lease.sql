-- One writer of profiles, history and the outbox across processes and machines (docs/SCORING.md).
-- A lease: epoch N is claimed by inserting its 'claim' row with insert_deduplication_token
-- 'claim-N'; ClickHouse keeps exactly one of concurrent inserts with the same token (the
-- deduplication window below), so reading the claim back tells every claimant who won. The
-- holder renews with 'renew' rows and ends with a 'release' row; expiry is judged on the server's clock.
CREATE TABLE IF NOT EXISTS {database}.scoring_write_lease
(
    epoch      UInt64,
    kind       LowCardinality(String),
    holder     String,
    expires_at DateTime64(3, 'UTC'),
    at         DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (epoch, at)
SETTINGS non_replicated_deduplication_window = 1000;

-- The fencing token of the write a commit mark closes (0: written before leases existed).
ALTER TABLE {database}.outbox_commits ADD COLUMN IF NOT EXISTS epoch UInt64;

-- Which commit marks the publisher has sent, per stream: it reads marks by id, not by a
-- changed_at high-water, so a mark that becomes visible late is still published.
CREATE TABLE IF NOT EXISTS {database}.publisher_marks
(
    stream       LowCardinality(String),
    changed_at   DateTime64(3, 'UTC'),
    committed_at DateTime64(3, 'UTC'),
    published_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (stream, committed_at);

-- Outbox rows the publisher could not encode against the topic's schema: skipped, not blocking
-- the stream, and kept here with the reason (docs/EVENTS.md).
CREATE TABLE IF NOT EXISTS {database}.publisher_skipped
(
    stream     LowCardinality(String),
    event_id   String,
    changed_at DateTime64(3, 'UTC'),
    reason     String,
    skipped_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (stream, skipped_at);
