-- Steadfast instance store, SQLite schema version 5: instance history (tracking records).
-- Each record is written in the same transaction as the save (or the create) that made it
-- true, so history and state never disagree. A record's place is the instance version that
-- save wrote and its order among that save's records. History outlives its instance when the
-- completion action deletes it; it is removed by retention after the instance finished, or
-- with the instance by a delete or purge.
CREATE TABLE history (
    instance_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    ordinal INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    -- The kind's fields, a JSON object.
    detail TEXT NOT NULL,
    PRIMARY KEY (instance_id, version, ordinal)
);

-- Retention finds the instances whose history ended (a final record) before its cut-off.
CREATE INDEX history_ends ON history (recorded_at)
    WHERE kind IN ('completed', 'faulted', 'terminated', 'canceled');
