CREATE TABLE notes (
    id BLOB PRIMARY KEY NOT NULL,
    owner_id BLOB NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    tags TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX notes_owner_created ON notes (owner_id, created_at, id);
