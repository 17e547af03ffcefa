CREATE TABLE rampart_api_keys (
    id BLOB PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL REFERENCES rampart_users (id),
    name TEXT NOT NULL,
    lookup TEXT NOT NULL UNIQUE,
    key_hash BLOB NOT NULL,
    roles TEXT,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX rampart_api_keys_user ON rampart_api_keys (user_id);
