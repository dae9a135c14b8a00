-- Steadfast instance store, PostgreSQL schema version 4: instance history (tracking records).
-- Each save (or create) that records history writes one row, in its own transaction, so
-- history and state never disagree: the events it recorded, as the instance version it
-- wrote. History outlives its instance when the completion action deletes it; it is removed
-- by retention after the instance ended, or with the instance by a delete or purge.
--
-- Rows are keyed by the instance's creation time first: the rows that busy instances write
-- land on the same few recent pages, not one random page each (instance ids are random), so
-- a commit writes far fewer pages.
CREATE TABLE history (
    created_at BIGINT NOT NULL,
    instance_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    -- When the first of its events happened, and when the instance ended, if one of them
    -- ends it (completed, faulted, terminated, canceled): retention counts from that.
    recorded_at BIGINT NOT NULL,
    ended_at BIGINT,
    -- The events, in order: a JSON array of {"at": milliseconds, "kind", "detail": {…}}.
    events TEXT NOT NULL,
    -- The state the save wrote (a revision, for `wf show --revision`), encoded as the
    -- instance's state is; null when the save wrote none (a completion that deleted it keeps
    -- its final state here).
    state BYTEA,
    state_encoding TEXT,
    PRIMARY KEY (created_at, instance_id, version)
);

-- An instance's creation time, once its row is gone: from its first record (one per instance).
CREATE INDEX history_first ON history (instance_id) WHERE version = 1;

CREATE INDEX history_ends ON history (ended_at) WHERE ended_at IS NOT NULL;
