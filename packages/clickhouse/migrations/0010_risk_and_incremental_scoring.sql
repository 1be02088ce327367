-- Customer-at-risk decisions and incremental re-scoring (DESIGN.md "Output events"; docs/METRICS.md).

-- Open complaint tickets as of the score: the real-time at-risk path and its recovery read it.
ALTER TABLE {database}.customer_profiles ADD COLUMN IF NOT EXISTS open_complaints UInt64 AFTER complaints_90d;

-- At-risk decisions are recorded in the same outbox as segment changes (segment_type 'risk',
-- `to` at_risk or recovered), so nothing is published that was not recorded first; the
-- drivers say what put the customer at risk.
ALTER TABLE {database}.segment_changes ADD COLUMN IF NOT EXISTS drivers Array(LowCardinality(String));

-- What each full scoring run decided for the population: the exact RFM and tier cut points.
-- An incremental update re-scores a customer against the newest run's cut points and fits.
CREATE TABLE IF NOT EXISTS {database}.scoring_runs
(
    as_of       DateTime64(3, 'UTC'),
    r_cuts      Array(Float64),
    f_cuts      Array(Float64),
    m_cuts      Array(Decimal(38, 4)),
    tier_cuts   Array(Float64),
    customers   UInt64,
    finished_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(finished_at)
ORDER BY as_of;

-- Outbox rows become visible to the publisher only up to the newest commit mark: a large insert
-- lands in several parts, and a reader must never see half of one and move past the rest.
CREATE TABLE IF NOT EXISTS {database}.outbox_commits
(
    changed_at   DateTime64(3, 'UTC'),
    committed_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY changed_at;

-- Rows recorded before commit marks existed are complete: mark them (running this twice adds an equal mark).
INSERT INTO {database}.outbox_commits (changed_at)
SELECT max(changed_at) FROM {database}.segment_changes HAVING count() > 0;
