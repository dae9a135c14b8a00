-- Steadfast instance store, PostgreSQL schema version 1 (the tables of SQLite schema version 3).
-- Ids are lowercase UUID text; times are bigint milliseconds since 1970 (UTC); flags are 0/1:
-- the same columns as the SQLite store, so both run the same SQL.

-- Hosts registered as lock owners. A lock is live while lock_expires_at > now.
CREATE TABLE lock_owners (
    id TEXT PRIMARY KEY,
    host_id TEXT NOT NULL,
    lock_duration_ms BIGINT NOT NULL,
    lock_expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX lock_owners_by_expiry ON lock_owners (lock_expires_at);

-- One row per workflow instance, with its state and queryable columns.
CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    definition_name TEXT NOT NULL,
    definition_version TEXT NOT NULL,
    definition_fingerprint TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    is_suspended BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL,
    lock_owner_id TEXT,
    next_timer_at BIGINT,
    state BYTEA NOT NULL,
    state_encoding TEXT NOT NULL,
    state_size BIGINT NOT NULL,
    fault TEXT,
    blocked_reason TEXT,
    -- Claims by another owner since the last save or release (see the SQLite schema's 0003).
    claims_since_save BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX instances_by_lock_owner ON instances (lock_owner_id);
CREATE INDEX instances_by_next_timer ON instances (next_timer_at) WHERE next_timer_at IS NOT NULL;
CREATE INDEX instances_by_status ON instances (status, updated_at);
CREATE INDEX instances_by_definition ON instances (definition_name, updated_at);
CREATE INDEX instances_by_update ON instances (updated_at DESC, id);

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

-- Promoted properties: chosen variables copied out for query.
CREATE TABLE promoted_properties (
    instance_id TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (instance_id, name)
);

CREATE INDEX promoted_properties_by_value ON promoted_properties (name, value);

-- Everything sent to an instance: messages and control commands, settled by the save that
-- applies them.
CREATE TABLE inbox (
    id BIGSERIAL PRIMARY KEY,
    instance_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    operation TEXT,
    body BYTEA NOT NULL,
    client_id TEXT,
    state TEXT NOT NULL DEFAULT 'pending',
    reason TEXT,
    enqueued_at BIGINT NOT NULL,
    settled_at BIGINT
);

CREATE INDEX inbox_by_instance ON inbox (instance_id, id);
CREATE INDEX inbox_pending ON inbox (id) WHERE state = 'pending';
CREATE UNIQUE INDEX inbox_by_client_id ON inbox (instance_id, client_id) WHERE client_id IS NOT NULL;

-- Settings of the store itself, shared by every host.
CREATE TABLE store_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

INSERT INTO store_settings (name, value) VALUES ('completion_action', 'deleteAll');

-- Wakes the hosts (LISTEN steadfast_work) when work may have become runnable: something was
-- stored in an inbox, or an instance was unlocked (or its timer moved) while it can still run.
-- Notifications are sent when the transaction commits; identical ones within it are sent once.
CREATE FUNCTION steadfast_notify_work() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('steadfast_work', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER inbox_notifies AFTER INSERT ON inbox
    FOR EACH ROW EXECUTE FUNCTION steadfast_notify_work();

CREATE TRIGGER unlock_notifies AFTER UPDATE OF lock_owner_id, next_timer_at ON instances
    FOR EACH ROW
    WHEN (NEW.lock_owner_id IS NULL AND NEW.status IN ('running', 'idle')
        AND (OLD.lock_owner_id IS NOT NULL OR OLD.next_timer_at IS DISTINCT FROM NEW.next_timer_at))
    EXECUTE FUNCTION steadfast_notify_work();
