-- Steadfast instance store, SQLite schema version 2: the durable inbox, definition
-- fingerprints, blocked instances and store settings.

-- The definition's content fingerprint, so a host claims only instances of the exact
-- definitions it hosts ('' for rows written before version 2: any fingerprint).
ALTER TABLE instances ADD COLUMN definition_fingerprint TEXT NOT NULL DEFAULT '';

-- Why no host can run the instance now (its definition is not hosted, or was edited without a
-- new version); NULL when it is not blocked. Cleared by the next save.
ALTER TABLE instances ADD COLUMN blocked_reason TEXT;

-- Everything sent to an instance: messages for its Receives and control commands (suspend,
-- unsuspend, terminate, cancel). An entry is stored in one transaction whoever holds the
-- instance; the host that runs it applies entries in id order, and the save that records the
-- effect marks them applied (or rejected, with the reason) in the same transaction.
CREATE TABLE inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    operation TEXT,
    body BLOB NOT NULL,
    client_id TEXT,
    state TEXT NOT NULL DEFAULT 'pending',
    reason TEXT,
    enqueued_at INTEGER NOT NULL,
    settled_at INTEGER
);

INSERT INTO inbox (id, instance_id, kind, operation, body, enqueued_at)
    SELECT id, instance_id, 'message', operation, body, enqueued_at FROM messages;
DROP TABLE messages;

CREATE INDEX inbox_by_instance ON inbox (instance_id, id);
CREATE INDEX inbox_pending ON inbox (id) WHERE state = 'pending';
CREATE UNIQUE INDEX inbox_by_client_id ON inbox (instance_id, client_id) WHERE client_id IS NOT NULL;

-- Settings of the store itself, shared by every process that opens it.
CREATE TABLE store_settings (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

INSERT INTO store_settings (name, value) VALUES ('completion_action', 'deleteAll');
