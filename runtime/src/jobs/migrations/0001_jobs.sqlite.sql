CREATE TABLE rampart_job_outbox (
    id BLOB PRIMARY KEY NOT NULL,
    record TEXT NOT NULL,
    run_at_ms INTEGER,
    unique_key TEXT,
    unique_window_ms INTEGER,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX rampart_job_outbox_created ON rampart_job_outbox (created_at_ms);
CREATE TABLE rampart_job_done (
    job_id BLOB PRIMARY KEY NOT NULL,
    job TEXT NOT NULL,
    done_at_ms INTEGER NOT NULL
);
CREATE INDEX rampart_job_done_at ON rampart_job_done (done_at_ms);
