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
//! - `worker`: leases, timeouts, retries with backoff, the dead-letter queue, graceful
//!   shutdown, metrics and log lines per job.
//!
//! Delivery is at least once: a job whose worker dies runs again after its lease expires, so a
//! job's effect must tolerate a repeat or be made once-only.

mod ctx;
mod handle;
mod job;
pub mod memory;
pub mod queue;
pub mod redis;
mod worker;

pub use self::redis::RedisQueue;
pub use ctx::{JobCtx, JobServices};
pub use handle::{EnqueueOptions, JobSet, Jobs};
pub use job::{Backoff, Job, JobError, JobId, JobResult, JobSpec};
pub use memory::MemoryQueue;
pub use queue::{DeadJob, Delivery, Enqueued, JobRecord, Poison, Queue, QueueError, QueueStats};
pub use worker::{Worker, WorkerReport, WorkerSettings};

#[cfg(test)]
mod tests;
