-- Steadfast instance store, PostgreSQL schema version 3: idempotency keys of instance creations.
-- A client that retries a create with the same key (the HTTP API's Idempotency-Key header) gets
-- the instance its first try created. A key outlives its instance (a completion action may
-- delete that) for the store's retention, then the next create with it is a new request.
CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY NOT NULL,
    instance_id TEXT NOT NULL,
    -- A hash of what the first request asked for: the same key with another request is refused.
    request_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Expired keys are deleted a few at a time by the creates that use keys.
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
