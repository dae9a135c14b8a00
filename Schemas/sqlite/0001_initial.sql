-- Steadfast instance store, SQLite schema version 1.
-- Ids are lowercase UUID text; times are integer milliseconds since 1970 (UTC); flags are 0/1.

-- Hosts registered as lock owners. A lock is live while lock_expires_at > now.
CREATE TABLE lock_owners (
    id TEXT PRIMARY KEY NOT NULL,
    host_id TEXT NOT NULL,
    lock_duration_ms INTEGER NOT NULL,
    lock_expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

-- One row per workflow instance, with its state blob and queryable columns.
CREATE TABLE instances (
    id TEXT PRIMARY KEY NOT NULL,
    definition_name TEXT NOT NULL,
    definition_version TEXT NOT NULL,
    status TEXT NOT NULL,
    is_suspended INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL,
    lock_owner_id TEXT,
    next_timer_at INTEGER,
    state BLOB NOT NULL,
    state_encoding TEXT NOT NULL,
    state_size INTEGER NOT NULL,
    fault TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE INDEX instances_by_lock_owner ON instances (lock_owner_id);
CREATE INDEX instances_by_next_timer ON instances (next_timer_at)
    WHERE next_timer_at IS NOT NULL;
CREATE INDEX instances_by_status ON instances (status, updated_at);
CREATE INDEX instances_by_definition ON instances (definition_name, updated_at);

-- Correlation keys: a key belongs to at most one instance.
CREATE TABLE instance_keys (
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    PRIMARY KEY (name, value)
);

CREATE INDEX instance_keys_by_instance ON instance_keys (instance_id);

-- Open bookmarks (operations the instance waits on).
CREATE TABLE bookmarks (
    instance_id TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (instance_id, name)
);

-- Promoted properties: chosen variables copied out for query, no fixed limit.
CREATE TABLE promoted_properties (
    instance_id TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (instance_id, name)
);

CREATE INDEX promoted_properties_by_value ON promoted_properties (name, value);

-- Messages waiting for an instance, consumed by the save that applies them.
CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    body BLOB NOT NULL,
    enqueued_at INTEGER NOT NULL
);

CREATE INDEX messages_by_instance ON messages (instance_id, id);
