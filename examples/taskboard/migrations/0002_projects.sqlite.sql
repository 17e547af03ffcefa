CREATE TABLE projects (
    id BLOB PRIMARY KEY NOT NULL,
    owner_id BLOB NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    archived INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (owner_id, name)
);
CREATE INDEX projects_owner_created ON projects (owner_id, created_at, id);
CREATE TABLE tasks (
    id BLOB PRIMARY KEY NOT NULL,
    owner_id BLOB NOT NULL,
    project_id BLOB NOT NULL REFERENCES projects (id),
    title TEXT NOT NULL,
    done INTEGER NOT NULL,
    due TEXT,
    archived INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX tasks_project_created ON tasks (project_id, created_at, id);
CREATE INDEX tasks_project_title ON tasks (project_id, title, id);
