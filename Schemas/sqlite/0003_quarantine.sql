-- Steadfast instance store, SQLite schema version 3: quarantine of instances that keep taking
-- their hosts down, and the clean-up of crashed hosts' lock-owner rows.

-- How many times another owner claimed the instance (its lock passed to a different owner)
-- since its last successful save or release. A host that crashes or stops while running the
-- instance leaves it claimed; past the store's limit the next claim faults it instead of loading
-- it, keeping its state for an operator.
ALTER TABLE instances ADD COLUMN claims_since_save INTEGER NOT NULL DEFAULT 0;

-- Expired lock owners that hold no instance are deleted as hosts register and renew.
CREATE INDEX lock_owners_by_expiry ON lock_owners (lock_expires_at);
