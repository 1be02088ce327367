-- The publisher reads the outbox by changed_at, which is not in its sorting key: a minmax skip
-- index lets each poll read only the newest granules instead of scanning the whole outbox.
ALTER TABLE {database}.segment_changes ADD INDEX IF NOT EXISTS changed_at_minmax changed_at TYPE minmax GRANULARITY 1;
ALTER TABLE {database}.segment_changes MATERIALIZE INDEX changed_at_minmax;
