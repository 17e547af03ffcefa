-- Work off the request path: project exports (built by a worker) and the mails jobs send.
CREATE TABLE exports (
    id BLOB PRIMARY KEY NOT NULL,
    owner_id BLOB NOT NULL,
    project_id BLOB NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    result TEXT,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX exports_owner ON exports (owner_id, created_at, id);
CREATE TABLE mail_outbox (
    id BLOB PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX mail_outbox_user ON mail_outbox (user_id);
