CREATE TABLE rampart_idempotency (
    scope TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    token TEXT NOT NULL,
    outcome TEXT,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (scope, key_hash)
);
CREATE INDEX rampart_idempotency_expiry ON rampart_idempotency (expires_at);
