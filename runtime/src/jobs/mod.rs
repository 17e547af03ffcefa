//! Background jobs: work off the request path, declared like endpoints.
//!
//! `#[job(queue = "mail", retries = 8, timeout = "30s")]` on an
//! `async fn(ctx: JobCtx, input: T) -> JobResult` declares a job ([`Job`], [`JobSpec`]). The app
//! registers its jobs as a [`JobSet`]; handlers enqueue through [`Jobs`] (a typed dependency,
//! `Dep<Jobs>`); a [`Worker`], in its own process, runs them.
//!
//! - [`queue`]: what a queued job is ([`JobRecord`]) and the [`Queue`] contract: each step
//!   (push, fetch with lease, renew, complete, retry, bury, release) is atomic on the queue's
//!   side, so a worker that dies between two steps loses nothing.
//! - [`redis`]: the Redis queue ([`RedisQueue`], on Redis Streams), shared by every instance
//!   and worker: the one for production.
//! - [`memory`]: the in-process queue, for development and tests only.
//! - `worker`: leases, timeouts, retries with backoff, the dead-letter queue (and its
//!   retention), a bound on deliveries lost with their worker, graceful shutdown, metrics and
//!   log lines per job.
//! - `schedule`: `cron` jobs, enqueued by the workers at each tick, once among them.
//!
//! Delivery is at least once: a job whose worker dies runs again after its lease expires, so a
//! job's effect must tolerate a repeat or be made once-only.

mod ctx;
mod handle;
mod job;
pub mod memory;
mod outbox;
pub mod queue;
pub mod redis;
mod schedule;
mod worker;

pub use self::redis::RedisQueue;
pub use ctx::{JobCtx, JobServices};
pub use handle::{EnqueueOptions, JobSet, Jobs};
pub use job::{Backoff, Job, JobError, JobId, JobResult, JobSpec};
pub use memory::MemoryQueue;
pub use outbox::{MIGRATION_TABLE, MIGRATIONS, migrate};
pub use queue::{
    DeadJob, Delivery, Enqueued, JobRecord, Poison, Queue, QueueError, QueueStats, Revival,
};
pub use worker::{Worker, WorkerReport, WorkerSettings};

/// Whether nothing is left to run: no ready, running or soon-scheduled job on any queue of the
/// app's jobs, and an empty outbox (the testing kit's `drain_jobs`).
pub async fn is_idle(services: &JobServices) -> bool {
    let jobs = services.jobs();
    for queue in jobs.set().queues() {
        match jobs.queue().stats(queue).await {
            Ok(stats) if stats.ready == 0 && stats.in_flight == 0 && stats.scheduled == 0 => {}
            _ => return false,
        }
    }
    match &services.db {
        Some(db) => matches!(outbox::waiting(db).await, Ok(0)),
        None => true,
    }
}

/// Why an app's jobs cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    /// Two jobs declare the same name.
    #[error("two jobs are named `{0}`: job names identify queued jobs and must be unique")]
    DuplicateName(&'static str),
    /// Production with jobs declared and no queue: the in-process queue would lose every job
    /// on a restart and never reach a worker process.
    #[error(
        "jobs are declared but no queue is configured: set REDIS_URL (the in-process queue is for development and tests)"
    )]
    NoQueue,
    /// The queue's server cannot be used.
    #[error("the job queue cannot be used: {0}")]
    Queue(#[from] QueueError),
    /// The job tables cannot be created.
    #[error("the job tables cannot be created: {0}")]
    Database(String),
    /// A job takes a `Dep<T>` the app does not register.
    #[error(
        "job `{job}` takes `Dep<{dependency}>`, which the app does not register: register it with `App::dep(..)`"
    )]
    MissingDependency {
        /// The job's name.
        job: &'static str,
        /// The type nobody registered, as the compiler writes it.
        dependency: &'static str,
    },
    /// A worker was asked for, but the app declares no jobs.
    #[error("the app declares no jobs: call App::with_jobs first")]
    NoJobs,
}

#[cfg(test)]
mod tests;
