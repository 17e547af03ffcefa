CREATE TABLE rampart_api_keys (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES rampart_users (id),
    name TEXT NOT NULL,
    lookup TEXT NOT NULL UNIQUE,
    key_hash BYTEA NOT NULL,
    roles TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX rampart_api_keys_user ON rampart_api_keys (user_id);
