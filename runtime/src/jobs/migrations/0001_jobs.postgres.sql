CREATE TABLE rampart_job_outbox (
    id UUID PRIMARY KEY,
    record TEXT NOT NULL,
    run_at_ms BIGINT,
    unique_key TEXT,
    unique_window_ms BIGINT,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX rampart_job_outbox_created ON rampart_job_outbox (created_at_ms);
CREATE TABLE rampart_job_done (
    job_id UUID PRIMARY KEY,
    job TEXT NOT NULL,
    done_at_ms BIGINT NOT NULL
);
CREATE INDEX rampart_job_done_at ON rampart_job_done (done_at_ms);
