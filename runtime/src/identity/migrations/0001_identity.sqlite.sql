CREATE TABLE rampart_users (
    id BLOB PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    display_name TEXT NOT NULL,
    roles TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE rampart_refresh_tokens (
    id BLOB PRIMARY KEY NOT NULL,
    family_id BLOB NOT NULL,
    user_id BLOB NOT NULL REFERENCES rampart_users (id),
    token_hash BLOB NOT NULL UNIQUE,
    family_started_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX rampart_refresh_tokens_family ON rampart_refresh_tokens (family_id);
CREATE INDEX rampart_refresh_tokens_user ON rampart_refresh_tokens (user_id);
