//! What travels through a queue, and the one interface both queues implement: Redis
//! (`redis.rs`, shared by every instance and worker) and the in-process queue (`memory.rs`,
//! development and tests only).

use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::job::JobId;
use crate::resource::CapturedScope;

/// A job as it is queued: everything a worker needs to run it, and nothing it must trust
/// beyond what it verifies (the captured scope is signed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// The job's id, the same on every delivery and retry.
    pub id: JobId,
    /// The registered job name ([`JobSpec::name`](super::JobSpec::name)).
    pub job: String,
    /// The queue it runs on.
    pub queue: String,
    /// The input, as JSON text: kept as text so that a payload the job cannot decode still
    /// reaches the dead-letter queue as it was sent.
    pub payload: String,
    /// The attempt this delivery runs (1 for the first).
    pub attempt: u32,
    /// When it was first enqueued (milliseconds since the Unix epoch).
    pub enqueued_at_ms: i64,
    /// The request that enqueued it, for the job's log lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The enqueuing span's `traceparent`: the job's span continues its trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// The owner scope captured at enqueue, if the job was enqueued for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<CapturedScope>,
    /// The error of the previous attempt, on a retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// A delivery a queue handed to a worker: the record (or why it could not be read) and the
/// queue's handle on it (a Redis stream entry id, an in-process lease number).
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The record, or the raw entry when it does not decode (a poison message: the worker
    /// buries it without running anything).
    pub record: Result<JobRecord, Poison>,
    /// The queue's own reference to this delivery.
    pub token: String,
    /// The queue the delivery came from.
    pub queue: String,
    /// The worker it was handed to. Settling steps act only while this consumer still holds
    /// it: a worker whose lease was taken over cannot complete, retry or release the job its
    /// successor now runs.
    pub consumer: String,
    /// How many times this attempt has been handed out, this delivery included: 1, unless
    /// earlier deliveries were taken over after their lease expired (their worker stopped, or
    /// could not renew, without settling). A delivery given back by [`Queue::release`] does
    /// not count; a retry is a new attempt and starts again at 1. The worker buries a
    /// delivery past [`WorkerSettings::max_deliveries`](super::WorkerSettings::max_deliveries)
    /// instead of running it: a job that kills its worker cannot loop forever.
    pub deliveries: u32,
}

/// An entry that does not decode as a [`JobRecord`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poison {
    /// The entry as it was stored.
    pub raw: String,
    /// Why it does not decode.
    pub reason: String,
}

/// A job in the dead-letter queue: it failed every attempt, failed permanently, or could not
/// be decoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadJob {
    /// The job's id (a poison entry gets a new one).
    pub id: JobId,
    /// The job name, when the entry decoded.
    pub job: Option<String>,
    /// The queue it was taken from.
    pub queue: String,
    /// The record as it was last queued (JSON text), so a retry sends it again unchanged.
    pub record: String,
    /// Attempts made.
    pub attempts: u32,
    /// The last error.
    pub error: String,
    /// When it was buried (milliseconds since the Unix epoch).
    pub failed_at_ms: i64,
}

impl DeadJob {
    /// A job buried now, after `attempts` attempts, with `error`.
    pub(crate) fn now(
        id: JobId,
        job: Option<String>,
        queue: &str,
        record: String,
        attempts: u32,
        error: &str,
    ) -> Self {
        Self {
            id,
            job,
            queue: queue.to_owned(),
            record,
            attempts,
            error: error.to_owned(),
            failed_at_ms: now_ms(),
        }
    }
}

/// A queue's counts, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Jobs waiting to run now.
    pub ready: u64,
    /// Jobs waiting for their time (delayed, or a retry's backoff).
    pub scheduled: u64,
    /// Jobs a worker holds.
    pub in_flight: u64,
    /// Age of the oldest ready job, in milliseconds (0 when none).
    pub oldest_ready_age_ms: u64,
    /// Jobs in the dead-letter queue (all queues).
    pub dead: u64,
}

/// Why a queue operation failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The queue's server cannot be reached or did not answer in time.
    #[error("the job queue is unavailable: {0}")]
    Unavailable(String),
    /// The server answered with something this version does not understand.
    #[error("the job queue answered unexpectedly: {0}")]
    Protocol(String),
    /// The server is a version the queue does not run on (the Redis queue needs Redis 7.0
    /// or later): a deployment mistake, reported when the queue connects or first reaches
    /// the server.
    #[error("the job queue needs Redis {required} or later, and the server is Redis {found}")]
    UnsupportedServer {
        /// The version the server reports (its `redis_version`, as it reads).
        found: String,
        /// The oldest version the queue runs on.
        required: &'static str,
    },
}

/// What `unique` enqueue found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new job was queued.
    New(JobId),
    /// A job with the same unique key was queued within its window; nothing new was queued.
    Duplicate(JobId),
}

impl Enqueued {
    /// The id of the job that will run.
    pub fn id(self) -> JobId {
        match self {
            Enqueued::New(id) | Enqueued::Duplicate(id) => id,
        }
    }
}

/// A job queue. Every method is one atomic step on the queue's side, so a worker that dies
/// between two of them loses nothing: a delivery not completed, retried or buried is handed out
/// again once its lease expires.
pub trait Queue: Send + Sync + 'static {
    /// Queues `record` to run at `run_at_ms` (now when `None`). With `unique`, a second
    /// record with the same key within the window is not queued.
    fn push<'a>(
        &'a self,
        record: &'a JobRecord,
        run_at_ms: Option<i64>,
        unique: Option<(&'a str, Duration)>,
    ) -> BoxFuture<'a, Result<Enqueued, QueueError>>;

    /// Up to `max` deliveries from `queue` for `consumer`, waiting up to `wait` when there are
    /// none. Also moves due scheduled jobs to ready and takes over deliveries whose lease
    /// (`lease`) expired because their worker died.
    fn fetch<'a>(
        &'a self,
        queue: &'a str,
        consumer: &'a str,
        max: usize,
        wait: Duration,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<Delivery>, QueueError>> {
        self.fetch_limited(queue, consumer, max, max, wait, lease)
    }

    /// [`Queue::fetch`], taking over at most `takeovers` expired deliveries (none when 0): the
    /// worker takes them over one at a time, and none while it runs one that was lost twice, so
    /// a job that kills its worker does not take the same jobs down with it each time.
    fn fetch_limited<'a>(
        &'a self,
        queue: &'a str,
        consumer: &'a str,
        max: usize,
        takeovers: usize,
        wait: Duration,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<Delivery>, QueueError>>;

    /// Extends the lease of a running delivery (a job longer than its lease is not handed out
    /// twice while it runs); `false` when [`Delivery::consumer`] no longer holds it (taken over
    /// after its lease expired): the worker must stop the job.
    fn renew<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, Result<bool, QueueError>>;

    /// The delivery succeeded: forget it. Like every settling step below, it does nothing
    /// unless [`Delivery::consumer`] still holds the delivery.
    fn complete<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, Result<(), QueueError>>;

    /// The delivery failed and runs again as `next` at `run_at_ms`; one atomic step.
    fn retry<'a>(
        &'a self,
        delivery: &'a Delivery,
        next: &'a JobRecord,
        run_at_ms: i64,
    ) -> BoxFuture<'a, Result<(), QueueError>>;

    /// The delivery failed for good: move it to the dead-letter queue; one atomic step.
    fn bury<'a>(
        &'a self,
        delivery: &'a Delivery,
        dead: &'a DeadJob,
    ) -> BoxFuture<'a, Result<(), QueueError>>;

    /// Gives a delivery back unrun (a worker shutting down): it is ready again at once.
    fn release<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, Result<(), QueueError>>;

    /// Puts a job that never reached the queue straight into the dead-letter queue (an outbox
    /// row the queue refuses for good).
    fn bury_unqueued<'a>(&'a self, dead: &'a DeadJob) -> BoxFuture<'a, Result<(), QueueError>>;

    /// Deletes dead jobs buried more than `max_age` ago, then the oldest beyond the newest
    /// `keep` (the dead-letter queue's retention); how many were deleted.
    fn prune_dead<'a>(
        &'a self,
        max_age: Duration,
        keep: usize,
    ) -> BoxFuture<'a, Result<u64, QueueError>>;

    /// Forgets what the queue keeps for `consumer`, a worker that stopped (the Redis queue's
    /// connections for its blocking reads). Its deliveries are not touched: whatever it still
    /// holds is handed out again after its lease.
    fn forget_consumer(&self, consumer: &str);

    /// Dead jobs, newest first, at most `limit`.
    fn dead<'a>(&'a self, limit: usize) -> BoxFuture<'a, Result<Vec<DeadJob>, QueueError>>;

    /// Queues a dead job again (attempt 1, same id).
    fn revive<'a>(&'a self, id: JobId) -> BoxFuture<'a, Result<Revival, QueueError>>;

    /// Deletes a dead job; `false` when there is no such dead job.
    fn discard<'a>(&'a self, id: JobId) -> BoxFuture<'a, Result<bool, QueueError>>;

    /// The counts of `queue`.
    fn stats<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<QueueStats, QueueError>>;

    /// Claims the scheduled run of `job` at `tick_ms` (milliseconds since the Unix epoch):
    /// `true` for the first caller, across every worker and instance on this queue, `false` for
    /// every other until `ttl` has passed (longer than any clock skew between workers, so a
    /// late worker cannot claim a tick again once the claim is forgotten).
    fn claim_tick<'a>(
        &'a self,
        job: &'a str,
        tick_ms: i64,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, QueueError>>;
}

/// What reviving a dead job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revival {
    /// Queued again from its first attempt.
    Queued,
    /// No such dead job.
    NotFound,
    /// The dead entry does not decode as a job (a poison entry): it cannot run, only be
    /// discarded.
    Undecodable,
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
}

/// `duration` in whole milliseconds, saturating.
pub(crate) fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
