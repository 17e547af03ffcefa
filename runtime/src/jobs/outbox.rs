//! Transactional enqueue and once-only effects, both on the app's database.
//!
//! **Outbox.** `jobs.enqueue_tx(&tx, job, input)` writes the job into `rampart_job_outbox`
//! inside the caller's transaction, so it exists if and only if the transaction commits: no
//! job for a rolled-back write, no lost job after a commit, and no dependence on the queue
//! being up (the row waits). A relay, run by every server and worker of an app that declares
//! jobs, moves committed rows to the queue: it takes a batch (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL, so relays of several instances share the work), pushes each, deletes them, and
//! commits. A relay that dies between a push and its commit pushes again later: at least
//! once, like every delivery, and [`JobCtx::once`](super::JobCtx::once) makes the effect happen once anyway. The relay
//! runs at once after a commit in this process and every second otherwise.
//!
//! **Once.** [`JobCtx::once`](super::JobCtx::once) runs an effect in a transaction that also inserts the job's id
//! into `rampart_job_done`; a second delivery of the same job finds the id and skips the
//! effect. Records older than seven days are pruned by the relay.

use std::sync::LazyLock;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use uuid::Uuid;

use super::handle::{EnqueueOptions, Jobs};
use super::job::{Job, JobId};
use super::queue::{DeadJob, JobRecord, QueueError, millis, now_ms};
use crate::db::statement::Affected;
use crate::db::{Backend, Db, Migrations, Statement, Tx, Value, map_sqlx_error};
use crate::error::ApiError;

/// The job tables (outbox, completion records), with their own migration history.
pub const MIGRATIONS: Migrations = Migrations {
    sqlite: &[(1, "jobs", include_str!("migrations/0001_jobs.sqlite.sql"))],
    postgres: &[(1, "jobs", include_str!("migrations/0001_jobs.postgres.sql"))],
};

/// The migration table of the job tables.
pub const MIGRATION_TABLE: &str = "_rampart_jobs_migrations";

/// Creates or updates the job tables (needed for `enqueue_tx` and `JobCtx::once`).
pub async fn migrate(db: &Db) -> Result<(), crate::db::DbError> {
    db.migrate_into(&MIGRATIONS, MIGRATION_TABLE).await
}

/// Wakes this process's relays after a commit that wrote to the outbox.
static WAKE: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Rows one relay step moves.
const BATCH: usize = 100;

/// How long completion records are kept: longer than any job's retries last.
const DONE_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

impl Jobs {
    /// Queues `job` as part of `tx`: it runs if and only if `tx` commits (see the module docs).
    /// Succeeds while the queue is down.
    pub async fn enqueue_tx<J: Job>(
        &self,
        tx: &Tx,
        job: J,
        input: J::Input,
    ) -> Result<JobId, ApiError> {
        self.enqueue_tx_with(tx, job, input, EnqueueOptions::default())
            .await
    }

    /// [`Jobs::enqueue_tx`] with options (delay, scope, unique key).
    pub async fn enqueue_tx_with<J: Job>(
        &self,
        tx: &Tx,
        job: J,
        input: J::Input,
        options: EnqueueOptions,
    ) -> Result<JobId, ApiError> {
        let spec = job.spec();
        let (record, unique_key) = self.record::<J>(spec, &input, &options)?;
        let text = serde_json::to_string(&record)
            .map_err(|error| ApiError::internal(format!("job record: {error}")))?;
        let run_at = options
            .delay
            .map(|delay| Value::Int64(now_ms().saturating_add(millis(delay))))
            .unwrap_or(Value::Null(crate::db::Kind::Int64));
        let window = match (&unique_key, spec.unique) {
            (Some(_), Some(window)) => Value::Int64(millis(window)),
            _ => Value::Null(crate::db::Kind::Int64),
        };
        let key = unique_key.map_or(Value::Null(crate::db::Kind::Text), Value::Text);
        let Affected(_) = tx
            .fetch(
                "jobs.outbox.insert",
                Statement::literal(
                    "INSERT INTO rampart_job_outbox \
                     (id, record, run_at_ms, unique_key, unique_window_ms, created_at_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    vec![
                        Value::Uuid(record.id.uuid()),
                        Value::Text(text),
                        run_at,
                        key,
                        window,
                        Value::Int64(now_ms()),
                    ],
                ),
                map_sqlx_error,
            )
            .await?;
        tx.after_commit(|| WAKE.notify_waiters());
        Ok(record.id)
    }
}

type OutboxRow = (Uuid, String, Option<i64>, Option<String>, Option<i64>, i64);

/// Moves one batch of committed outbox rows to the queue; the number moved.
///
/// Row by row: a row the queue takes is removed from the outbox; a row the queue refuses for
/// good (or that does not decode) goes to the dead-letter queue and is removed too; the first
/// row the queue cannot take now (it is down) stops the batch, and it and the rest stay.
pub(crate) async fn relay_once(db: &Db, jobs: &Jobs) -> Result<usize, ApiError> {
    match db.backend() {
        Backend::Postgres => relay_claimed(db, jobs).await,
        Backend::Sqlite => relay_unlocked(db, jobs).await,
    }
}

/// PostgreSQL: the batch is claimed (`DELETE … RETURNING`, skipping rows another relay holds),
/// pushed, and the rows the queue could not take yet are put back, all in one transaction, so
/// relays of several instances share the work and a crash rolls the claim back.
async fn relay_claimed(db: &Db, jobs: &Jobs) -> Result<usize, ApiError> {
    let tx = Tx::begin(db).await?;
    let mut rows: Vec<OutboxRow> = tx
        .fetch(
            "jobs.outbox.claim",
            Statement::literal(
                "DELETE FROM rampart_job_outbox WHERE id IN (SELECT id FROM rampart_job_outbox \
                 ORDER BY created_at_ms, id LIMIT 100 FOR UPDATE SKIP LOCKED) \
                 RETURNING id, record, run_at_ms, unique_key, unique_window_ms, created_at_ms",
                vec![],
            ),
            map_sqlx_error,
        )
        .await?;
    // RETURNING gives no order: push in the order the jobs were committed.
    rows.sort_by_key(|row| (row.5, row.0));
    let mut moved = 0;
    let mut rows = rows.into_iter();
    while let Some(row) = rows.next() {
        match push_row(jobs, &row).await {
            Pushed::Done => moved += 1,
            Pushed::Later(reason) => {
                warn_later(&reason);
                for row in std::iter::once(row).chain(rows.by_ref()) {
                    put_back(&tx, row).await?;
                }
            }
        }
    }
    tx.commit().await?;
    Ok(counted(moved))
}

/// SQLite: the batch is read, pushed with no transaction open, and the rows the queue took are
/// deleted in a short transaction afterwards. SQLite has one writer: holding its lock across
/// network round trips (or a Redis outage) would stall every write of the app. Two relays on
/// one SQLite file may push a row twice (at least once, as always).
async fn relay_unlocked(db: &Db, jobs: &Jobs) -> Result<usize, ApiError> {
    let rows: Vec<OutboxRow> = db
        .fetch(
            "jobs.outbox.read",
            crate::db::Target::Write,
            Statement::literal(
                "SELECT id, record, run_at_ms, unique_key, unique_window_ms, created_at_ms \
                 FROM rampart_job_outbox ORDER BY created_at_ms, id LIMIT 100",
                vec![],
            ),
            map_sqlx_error,
        )
        .await?;
    let mut done = Vec::new();
    for row in &rows {
        match push_row(jobs, row).await {
            Pushed::Done => done.push(row.0),
            Pushed::Later(reason) => {
                warn_later(&reason);
                break;
            }
        }
    }
    if !done.is_empty() {
        let tx = Tx::begin(db).await?;
        for id in &done {
            let Affected(_) = tx
                .fetch(
                    "jobs.outbox.delete",
                    Statement::literal(
                        "DELETE FROM rampart_job_outbox WHERE id = $1",
                        vec![Value::Uuid(*id)],
                    ),
                    map_sqlx_error,
                )
                .await?;
        }
        tx.commit().await?;
    }
    Ok(counted(done.len()))
}

/// What became of one outbox row.
enum Pushed {
    /// Queued, or buried because the queue refuses it for good: it leaves the outbox.
    Done,
    /// The queue cannot take it now: it stays.
    Later(String),
}

async fn push_row(jobs: &Jobs, row: &OutboxRow) -> Pushed {
    let (id, text, run_at, unique_key, window, _) = row;
    let record: JobRecord = match serde_json::from_str(text) {
        Ok(record) => record,
        // Rampart wrote this row; one that does not decode was edited by hand.
        Err(_) => {
            return bury(
                jobs,
                *id,
                None,
                "outbox",
                text,
                "an outbox row does not decode",
            )
            .await;
        }
    };
    let unique = unique_key
        .as_deref()
        .zip(window.map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or(0))));
    match jobs.queue().push(&record, *run_at, unique).await {
        Ok(_) => Pushed::Done,
        Err(QueueError::Unavailable(reason)) => Pushed::Later(reason),
        // The server, not the row, is wrong: the row waits for a Redis the queue runs on.
        Err(unsupported @ QueueError::UnsupportedServer { .. }) => {
            Pushed::Later(unsupported.to_string())
        }
        Err(QueueError::Protocol(reason)) => {
            let error = format!("the queue refused the job: {reason}");
            bury(
                jobs,
                record.id.uuid(),
                Some(record.job.clone()),
                &record.queue,
                text,
                &error,
            )
            .await
        }
    }
}

/// Puts a row the queue refuses for good into the dead-letter queue, where administrators see
/// it, rather than retrying it every second forever.
async fn bury(
    jobs: &Jobs,
    id: Uuid,
    job: Option<String>,
    queue: &str,
    record: &str,
    error: &str,
) -> Pushed {
    tracing::error!(target: "rampart::jobs", job_id = %id, queue, error, "an outbox row cannot be queued; moved to the dead-letter queue");
    let dead = DeadJob::now(JobId::from(id), job, queue, record.to_owned(), 0, error);
    match jobs.queue().bury_unqueued(&dead).await {
        Ok(()) => Pushed::Done,
        Err(error) => Pushed::Later(error.to_string()),
    }
}

async fn put_back(tx: &Tx, row: OutboxRow) -> Result<(), ApiError> {
    let (id, text, run_at, unique_key, window, created) = row;
    let int = |value: Option<i64>| value.map_or(Value::Null(crate::db::Kind::Int64), Value::Int64);
    let Affected(_) = tx
        .fetch(
            "jobs.outbox.put_back",
            Statement::literal(
                "INSERT INTO rampart_job_outbox \
                 (id, record, run_at_ms, unique_key, unique_window_ms, created_at_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                vec![
                    Value::Uuid(id),
                    Value::Text(text),
                    int(run_at),
                    unique_key.map_or(Value::Null(crate::db::Kind::Text), Value::Text),
                    int(window),
                    Value::Int64(created),
                ],
            ),
            map_sqlx_error,
        )
        .await?;
    Ok(())
}

fn warn_later(reason: &str) {
    tracing::debug!(target: "rampart::jobs", reason, "the queue cannot take outbox rows yet; they wait");
}

fn counted(moved: usize) -> usize {
    if moved > 0 {
        metrics::counter!("jobs_outbox_relayed_total").increment(moved as u64);
    }
    moved
}

/// Relays until `stop` turns true: after each local commit that enqueued, and every second.
pub(crate) async fn relay(db: Db, jobs: Jobs, mut stop: watch::Receiver<bool>) {
    let mut failures = 0u32;
    let mut last_prune = None::<std::time::Instant>;
    loop {
        let woken = WAKE.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let pause = match relay_once(&db, &jobs).await {
            Ok(moved) if moved == BATCH => Duration::ZERO,
            Ok(_) => {
                failures = 0;
                Duration::from_secs(1)
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                if failures == 1 || failures.is_multiple_of(30) {
                    tracing::warn!(target: "rampart::jobs", error = %error, "the outbox relay cannot move jobs yet; they wait in the outbox");
                }
                metrics::counter!("jobs_outbox_relay_errors_total").increment(1);
                Duration::from_secs(1)
            }
        };
        if last_prune.is_none_or(|at| at.elapsed() > Duration::from_secs(3600)) {
            last_prune = Some(std::time::Instant::now());
            let _ = prune_done(&db).await;
        }
        if *stop.borrow() {
            return;
        }
        tokio::select! {
            () = &mut woken => {}
            () = tokio::time::sleep(pause) => {}
            _ = stop.changed() => {}
        }
    }
}

async fn prune_done(db: &Db) -> Result<(), ApiError> {
    let cutoff = now_ms().saturating_sub(millis(DONE_RETENTION));
    let tx = Tx::begin(db).await?;
    let Affected(_) = tx
        .fetch(
            "jobs.done.prune",
            Statement::literal(
                "DELETE FROM rampart_job_done WHERE done_at_ms < $1",
                vec![Value::Int64(cutoff)],
            ),
            map_sqlx_error,
        )
        .await?;
    tx.commit().await
}

/// Claims `job_id` in `tx`: `true` if no earlier delivery recorded it (the effect may run).
pub(crate) async fn claim_once(tx: &Tx, job_id: JobId, job: &str) -> Result<bool, ApiError> {
    let Affected(inserted) = tx
        .fetch(
            "jobs.done.claim",
            Statement::literal(
                "INSERT INTO rampart_job_done (job_id, job, done_at_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (job_id) DO NOTHING",
                vec![
                    Value::Uuid(job_id.uuid()),
                    Value::Text(job.to_owned()),
                    Value::Int64(now_ms()),
                ],
            ),
            map_sqlx_error,
        )
        .await?;
    Ok(inserted == 1)
}

/// Rows waiting in the outbox (committed, not yet relayed).
pub(crate) async fn waiting(db: &Db) -> Result<i64, ApiError> {
    let crate::db::statement::Scalar(count) = db
        .fetch(
            "jobs.outbox.count",
            crate::db::Target::Write,
            Statement::literal("SELECT COUNT(*) FROM rampart_job_outbox", vec![]),
            map_sqlx_error,
        )
        .await?;
    Ok(count.unwrap_or(0))
}
