//! The Redis queue: the [`Queue`] contract on Redis Streams, shared by every API instance and
//! worker of an app.
//!
//! # Layout
//!
//! Every key starts with the prefix given to [`RedisQueue::connect`]:
//!
//! - `{prefix}jobs:{queue}`: a stream per queue, one entry per ready or running job, with a
//!   field `record`, the [`JobRecord`] as JSON, and on a released entry `lost`, the deliveries
//!   of its attempt lost before it (see "Deliveries"). Workers read it through the consumer group
//!   `workers`; a delivery's token is its entry id. An entry that does not decode is handed out
//!   as a [`Poison`](super::Poison) delivery (its raw text kept), which the worker buries.
//! - `{prefix}jobs:{queue}:scheduled`: a sorted set of records waiting for their time (a
//!   delay, a retry's backoff), scored by run-at in ms; each fetch first moves the due ones to
//!   the stream.
//! - `{prefix}jobs:dead` (hash: job id → [`DeadJob`] JSON) and `{prefix}jobs:dead:index`
//!   (sorted set by failed-at, for newest-first listing and oldest-first retention): the
//!   dead-letter queue of all queues.
//! - `{prefix}jobs:unique:{key}`: `SET NX PX window` holding the id of the job a unique key
//!   collapsed into.
//! - `{prefix}jobs:cron:{job}:{tick}`: `SET NX PX ttl`, the claim of one scheduled run (tick
//!   in ms): the worker that sets it enqueues that run, the others skip it.
//!
//! The queue names `dead`, `unique` and `cron`, and names starting with `dead:`, `unique:` or
//! `cron:`, would collide with these keys and are refused. On a Redis Cluster every key must hash to one slot
//! (the scripts touch several): use a hash-tagged prefix such as `{myapp}:`.
//!
//! # Steps
//!
//! Each [`Queue`] method is one atomic step: one Lua script (`scripts.rs`), or one command.
//! Time comes from Redis `TIME` wherever it decides (is a scheduled job due, how old is the
//! oldest ready job), so instances with skewed clocks agree. A fetch (1) moves due scheduled
//! jobs to the stream, (2) takes over, with `XAUTOCLAIM`, entries idle longer than the lease
//! (their worker died: a live worker renews its leases with `XCLAIM`), then (3) reads new
//! entries with `XREADGROUP ... BLOCK`. Blocking reads go through a connection of their own
//! per queue and consumer: on the shared multiplexed connection a blocked command would stall
//! every command queued behind it. A worker that stops drops its blocking connections
//! ([`Queue::forget_consumer`]), which closes them. Complete acknowledges *and deletes* the entry, so the stream
//! holds only live jobs and Redis memory stays bounded by the backlog. Retry, bury and release
//! act only while the entry is still pending: a step repeated after a lost reply, or one
//! racing a worker that took the job over, changes nothing.
//!
//! Each worker process reads under a consumer name of its own; consumers that hold nothing
//! and have not read for an hour are forgotten (checked at most every 10 minutes per process),
//! so the group does not keep one per worker ever started.
//!
//! The group is created at offset `0`, not `$`: jobs pushed before any worker ever fetched
//! (or between a Redis restart and the first fetch after it) are entries the group must see.
//! When Redis answers `NOGROUP` (it restarted without persistence, or someone deleted the
//! group), the group is created again and the step retried once.
//!
//! # Failures
//!
//! A Redis that cannot be reached, times out, or is still loading its data is
//! [`QueueError::Unavailable`] (enqueue answers 503 `UNAVAILABLE`; the worker backs off and
//! tries again); a reply of an unexpected shape is [`QueueError::Protocol`]. Connections
//! reconnect by themselves, and no timeout ends a worker: response timeouts are generous
//! (5 s on the shared connection, the block time plus 5 s on a blocking one) and an error is
//! only ever a failed step.
//!
//! # Durability
//!
//! A queue is only as durable as Redis. To survive a Redis restart run it with
//! `appendonly yes` and `appendfsync everysec`: a crash of Redis (or its host) then loses at
//! most the last second of acknowledged enqueues and settlements (a settlement lost is a job
//! run again: delivery is at least once), and a clean restart loses nothing. `appendfsync
//! always` closes that window at the cost of a disk sync per write. Without persistence a
//! restart empties every queue.
//!
//! `oldest_ready_age_ms` in [`QueueStats`] is measured from the stream id of the first entry
//! after the group's last-delivered id: the time since the job became ready (pushed, moved
//! from the schedule, or released), not since it was first enqueued.
//!
//! Requires Redis 7.0 or later: [`RedisQueue::connect`] (or, when Redis is unreachable then, the
//! first step that reaches it) reads `INFO server` and refuses an older server with
//! [`QueueError::UnsupportedServer`]. 7.0's `XAUTOCLAIM` removes entries deleted while pending
//! from the pending list; 6.2 leaves them there for ever.
//!
//! # Deliveries
//!
//! A delivery's [`Delivery::deliveries`] is the entry's delivery count (1 from `XREADGROUP`,
//! one more per `XAUTOCLAIM` takeover, read back with `XPENDING` after a takeover; a renewal's
//! `XCLAIM … JUSTID` adds none), plus the entry's `lost` field: a release writes a new entry
//! whose count starts again, and carries the deliveries lost so far there. The worker buries a
//! delivery past its limit.

mod dead;
mod fetch;
mod reply;
mod scripts;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{Cmd, ErrorKind, RedisError, ServerErrorKind, Value};
use futures_util::future::BoxFuture;

use super::job::JobId;
use super::queue::{
    DeadJob, Delivery, Enqueued, JobRecord, Queue, QueueError, QueueStats, Revival, millis,
};
use scripts::Scripts;

/// The consumer group every worker reads through.
const GROUP: &str = "workers";
/// Scheduled jobs moved to ready per fetch, at most.
const PROMOTE_BATCH: usize = 1000;
/// The longest a fetch blocks in Redis (a longer wait is cut to it: a fetch may return early).
const MAX_BLOCK: Duration = Duration::from_secs(10);
/// How much longer than a block the client waits for its answer.
const BLOCK_MARGIN: Duration = Duration::from_secs(5);
/// How many times a fetch follows `XAUTOCLAIM`'s cursor through the pending entries.
const CLAIM_ROUNDS: usize = 4;
/// How long a consumer holding nothing stays in a group without reading (see
/// [`RedisQueue::forget_consumers_after`]).
const CONSUMER_EXPIRY: Duration = Duration::from_secs(3600);
/// How often a process looks for such consumers, at most.
const REAP_EVERY: Duration = Duration::from_secs(600);
/// Dead jobs deleted per retention script call, at most.
const PRUNE_BATCH: usize = 1000;
/// The oldest Redis the queue runs on: 7.0 is where `XAUTOCLAIM` reports the entries deleted
/// while pending *and removes them from the pending list*; on 6.2 it skips them but leaves them
/// pending, so every fetch would meet them again and they would count as in flight forever.
const REQUIRED_VERSION: (u32, u32, u32) = (7, 0, 0);
const REQUIRED_VERSION_TEXT: &str = "7.0";

/// A [`Queue`] on Redis Streams (see the module docs).
pub struct RedisQueue {
    client: ::redis::Client,
    /// Every non-blocking command.
    shared: ConnectionManager,
    /// One connection per `queue\0consumer`, for blocking reads.
    blocking: Mutex<HashMap<String, ConnectionManager>>,
    /// Streams whose group this process has created (or found existing).
    grouped: Mutex<HashSet<String>>,
    /// When this process last forgot idle consumers of each stream.
    reaped: Mutex<HashMap<String, Instant>>,
    /// How long a consumer that holds nothing stays in a group without reading.
    consumer_expiry: Duration,
    /// Whether the server's version was checked (or could not be, see
    /// [`RedisQueue::check_server`]): until then, every step checks it first.
    checked: AtomicBool,
    /// The version the server reported.
    version: OnceLock<(u32, u32, u32)>,
    prefix: Arc<str>,
    scripts: Scripts,
}

impl std::fmt::Debug for RedisQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisQueue")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn config(response_timeout: Duration) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(response_timeout))
        .set_number_of_retries(1)
}

/// A Redis failure as the queue reports it: the server cannot be reached or cannot answer now
/// (unavailable), or it answered something this code does not expect (protocol).
fn queue_error(error: &RedisError) -> QueueError {
    let unavailable = error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || matches!(
            error.kind(),
            ErrorKind::Server(
                ServerErrorKind::BusyLoading
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::ClusterDown
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::ReadOnly
            )
        );
    if unavailable {
        QueueError::Unavailable(error.to_string())
    } else {
        QueueError::Protocol(error.to_string())
    }
}

/// Whether Redis said the consumer group (or its stream) does not exist.
fn is_no_group(error: &RedisError) -> bool {
    error.code() == Some("NOGROUP") || error.to_string().contains("NOGROUP")
}

/// The version an `INFO server` reply names, if the queue runs on it; else the typed error
/// naming what was found (cut short and printable: it is shown to an operator).
fn supported_version(info: &str) -> Result<(u32, u32, u32), QueueError> {
    let found = reply::redis_version(info);
    match found.and_then(reply::parse_version) {
        Some(version) if version >= REQUIRED_VERSION => Ok(version),
        _ => Err(QueueError::UnsupportedServer {
            found: match found {
                Some(text) => text.chars().filter(|c| !c.is_control()).take(40).collect(),
                None => "of no stated version (INFO has no redis_version)".to_owned(),
            },
            required: REQUIRED_VERSION_TEXT,
        }),
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, QueueError> {
    serde_json::to_string(value).map_err(|error| QueueError::Protocol(error.to_string()))
}

impl RedisQueue {
    /// Connects to the Redis at `url`, keeping every key under `prefix`, and checks that the
    /// server is Redis 7.0 or later ([`QueueError::UnsupportedServer`] otherwise). A Redis
    /// unreachable now does not fail: the queue connects, and checks the version, on first use
    /// (each step is `Unavailable` until Redis answers). A URL that cannot be used is an
    /// error.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, QueueError> {
        // Not the client's message alone: it never shows the URL (which may hold a password).
        let unusable = |error: RedisError| {
            QueueError::Unavailable(format!("the Redis URL cannot be used: {error}"))
        };
        let client = ::redis::Client::open(url).map_err(unusable)?;
        let shared_config = config(Duration::from_secs(5));
        let (shared, reachable) = match client
            .get_connection_manager_with_config(shared_config.clone())
            .await
        {
            Ok(connection) => (connection, true),
            Err(error) if matches!(queue_error(&error), QueueError::Unavailable(_)) => {
                tracing::warn!(target: "rampart::jobs", error = %error, "Redis unreachable at start: the job queue is unavailable until it answers");
                let lazy = client
                    .get_connection_manager_lazy(shared_config)
                    .map_err(unusable)?;
                (lazy, false)
            }
            Err(error) => return Err(queue_error(&error)),
        };
        let queue = Self {
            client,
            shared,
            blocking: Mutex::default(),
            grouped: Mutex::default(),
            reaped: Mutex::default(),
            consumer_expiry: CONSUMER_EXPIRY,
            checked: AtomicBool::new(false),
            version: OnceLock::new(),
            prefix: Arc::from(prefix),
            scripts: Scripts::new(),
        };
        if reachable {
            match queue.check_server().await {
                // Gone again since it answered: checked on first use, like an unreachable one.
                Ok(()) | Err(QueueError::Unavailable(_)) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(queue)
    }

    /// The server's version, once the queue has reached it (`INFO server`'s `redis_version`).
    pub fn server_version(&self) -> Option<(u32, u32, u32)> {
        self.version.get().copied()
    }

    /// Checks, once, that the server is a Redis this queue runs on. A server that refuses
    /// `INFO` (an ACL without it) cannot be checked: that is logged and the queue goes on, as
    /// the version check guards against a mistake, and must not lock out a working setup.
    async fn check_server(&self) -> Result<(), QueueError> {
        if self.checked.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut connection = self.shared.clone();
        let info = match ::redis::cmd("INFO")
            .arg("server")
            .query_async::<Value>(&mut connection)
            .await
        {
            Ok(info) => info,
            Err(error) if matches!(queue_error(&error), QueueError::Unavailable(_)) => {
                return Err(queue_error(&error));
            }
            Err(error) => {
                tracing::warn!(target: "rampart::jobs", error = %error, "cannot read the Redis version (INFO refused); the job queue needs Redis 7.0 or later");
                self.checked.store(true, Ordering::Release);
                return Ok(());
            }
        };
        let text = reply::text(&info).ok_or_else(|| reply::unexpected("INFO", &info))?;
        let version = supported_version(&text)?;
        let _ = self.version.set(version);
        self.checked.store(true, Ordering::Release);
        Ok(())
    }

    /// Forget consumers
    /// Forget consumers (worker processes) that hold no job and have not read for `idle`
    /// (default one hour): each worker process reads under a name of its own, and a group
    /// would otherwise keep every one ever started. A live worker idle that long loses nothing
    /// (it holds no job) and is registered again by its next read.
    pub fn forget_consumers_after(mut self, idle: Duration) -> Self {
        self.consumer_expiry = idle;
        self
    }

    fn stream(&self, queue: &str) -> Result<String, QueueError> {
        let reserved = ["dead", "unique", "cron"].iter().any(|name| {
            queue == *name
                || queue
                    .strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with(':'))
        });
        if reserved {
            return Err(QueueError::Protocol(format!(
                "the queue name `{queue}` is reserved by the Redis queue's key layout"
            )));
        }
        Ok(format!("{}jobs:{queue}", self.prefix))
    }

    fn scheduled(stream: &str) -> String {
        format!("{stream}:scheduled")
    }

    fn dead_keys(&self) -> (String, String) {
        let dead = format!("{}jobs:dead", self.prefix);
        let index = format!("{dead}:index");
        (dead, index)
    }

    /// The connection for blocking reads of `queue` by `consumer`.
    fn blocking_connection(
        &self,
        queue: &str,
        consumer: &str,
    ) -> Result<ConnectionManager, QueueError> {
        let mut connections = lock(&self.blocking);
        if let Some(connection) = connections.get(&format!("{queue}\0{consumer}")) {
            return Ok(connection.clone());
        }
        let connection = self
            .client
            .get_connection_manager_lazy(config(MAX_BLOCK + BLOCK_MARGIN))
            .map_err(|error| queue_error(&error))?;
        connections.insert(format!("{queue}\0{consumer}"), connection.clone());
        Ok(connection)
    }

    /// Creates the group of `stream` (and the stream) unless it exists.
    async fn create_group(&self, stream: &str) -> Result<(), QueueError> {
        self.check_server().await?;
        let mut connection = self.shared.clone();
        let created: ::redis::RedisResult<Value> = ::redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(stream)
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut connection)
            .await;
        match created {
            Ok(_) => {}
            Err(error) if error.code() == Some("BUSYGROUP") => {}
            Err(error) => return Err(queue_error(&error)),
        }
        lock(&self.grouped).insert(stream.to_owned());
        Ok(())
    }

    async fn ensure_group(&self, stream: &str) -> Result<(), QueueError> {
        if lock(&self.grouped).contains(stream) {
            return Ok(());
        }
        self.create_group(stream).await
    }

    /// Runs `command` on `connection`; on `NOGROUP` for `stream`, creates the group and runs
    /// it once more.
    async fn query(
        &self,
        connection: &mut ConnectionManager,
        command: &Cmd,
        stream: Option<&str>,
    ) -> Result<Value, QueueError> {
        self.check_server().await?;
        let sent = crate::spans::in_span(
            crate::spans::redis("jobs.queue"),
            command.query_async::<Value>(connection),
        )
        .await;
        match sent {
            Ok(value) => Ok(value),
            Err(error) => match stream {
                Some(stream) if is_no_group(&error) => {
                    lock(&self.grouped).remove(stream);
                    self.create_group(stream).await?;
                    command
                        .query_async::<Value>(connection)
                        .await
                        .map_err(|error| queue_error(&error))
                }
                _ => Err(queue_error(&error)),
            },
        }
    }

    /// Runs `script` on the shared connection (loading it when Redis lost it), with the
    /// `NOGROUP` recovery of [`RedisQueue::query`].
    async fn script(
        &self,
        script: &::redis::Script,
        keys: &[&str],
        args: &[&str],
        stream: Option<&str>,
    ) -> Result<Value, QueueError> {
        self.check_server().await?;
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(*key);
        }
        for arg in args {
            invocation.arg(*arg);
        }
        let mut connection = self.shared.clone();
        let sent = crate::spans::in_span(
            crate::spans::redis("jobs.queue"),
            invocation.invoke_async::<Value>(&mut connection),
        )
        .await;
        match sent {
            Ok(value) => Ok(value),
            Err(error) => match stream {
                Some(stream) if is_no_group(&error) => {
                    lock(&self.grouped).remove(stream);
                    self.create_group(stream).await?;
                    invocation
                        .invoke_async::<Value>(&mut connection)
                        .await
                        .map_err(|error| queue_error(&error))
                }
                _ => Err(queue_error(&error)),
            },
        }
    }

    async fn push_now(
        &self,
        record: &JobRecord,
        run_at_ms: Option<i64>,
        unique: Option<(&str, Duration)>,
    ) -> Result<Enqueued, QueueError> {
        let stream = self.stream(&record.queue)?;
        let scheduled = Self::scheduled(&stream);
        let body = json(record)?;
        let run_at = run_at_ms.map(|at| at.to_string()).unwrap_or_default();
        let id = record.id.to_string();
        let (unique_key, window) = match unique {
            Some((key, window)) => (
                Some(format!("{}jobs:unique:{key}", self.prefix)),
                millis(window).max(1).to_string(),
            ),
            None => (None, String::new()),
        };
        let mut keys = vec![stream.as_str(), scheduled.as_str()];
        keys.extend(unique_key.as_deref());
        let value = self
            .script(
                &self.scripts.push,
                &keys,
                &[&body, &run_at, &id, &window],
                None,
            )
            .await?;
        let (queued, id) = reply::pushed(&value)?;
        if queued {
            return Ok(Enqueued::New(record.id));
        }
        uuid::Uuid::parse_str(&id)
            .map(|existing| Enqueued::Duplicate(JobId::from(existing)))
            .map_err(|_| reply::unexpected("PUSH", &value))
    }

    async fn stats_now(&self, queue: &str) -> Result<QueueStats, QueueError> {
        let stream = self.stream(queue)?;
        let scheduled = Self::scheduled(&stream);
        let (dead, _) = self.dead_keys();
        let value = self
            .script(
                &self.scripts.stats,
                &[&stream, &scheduled, &dead],
                &[],
                None,
            )
            .await?;
        let counts = reply::ints("STATS", &value, 5)?;
        let count = |i: usize| counts.get(i).map_or(0, |n| u64::try_from(*n).unwrap_or(0));
        Ok(QueueStats {
            ready: count(0),
            scheduled: count(1),
            in_flight: count(2),
            oldest_ready_age_ms: count(3),
            dead: count(4),
        })
    }

    /// Runs a settling script on the delivery's stream, with the entry id first and the
    /// delivery's consumer last (every settling script acts only while that consumer holds
    /// the entry); whether it applied.
    async fn settle(
        &self,
        delivery: &Delivery,
        script: &::redis::Script,
        extra_keys: &[&str],
        args: &[&str],
    ) -> Result<bool, QueueError> {
        let stream = self.stream(&delivery.queue)?;
        let mut keys = vec![stream.as_str()];
        keys.extend_from_slice(extra_keys);
        let mut all = vec![delivery.token.as_str()];
        all.extend_from_slice(args);
        all.push(delivery.consumer.as_str());
        let value = self.script(script, &keys, &all, Some(&stream)).await?;
        Ok(reply::int("a settling step", &value)? == 1)
    }
}

impl Queue for RedisQueue {
    fn push<'a>(
        &'a self,
        record: &'a JobRecord,
        run_at_ms: Option<i64>,
        unique: Option<(&'a str, Duration)>,
    ) -> BoxFuture<'a, Result<Enqueued, QueueError>> {
        Box::pin(self.push_now(record, run_at_ms, unique))
    }

    fn fetch_limited<'a>(
        &'a self,
        queue: &'a str,
        consumer: &'a str,
        max: usize,
        takeovers: usize,
        wait: Duration,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Vec<Delivery>, QueueError>> {
        Box::pin(self.fetch_now(queue, consumer, max, takeovers, wait, lease))
    }

    fn renew<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, Result<bool, QueueError>> {
        Box::pin(self.settle(delivery, &self.scripts.renew, &[], &[]))
    }

    fn complete<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            self.settle(delivery, &self.scripts.complete, &[], &[])
                .await
                .map(|_| ())
        })
    }

    fn retry<'a>(
        &'a self,
        delivery: &'a Delivery,
        next: &'a JobRecord,
        run_at_ms: i64,
    ) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            let stream = self.stream(&delivery.queue)?;
            let scheduled = Self::scheduled(&stream);
            let body = json(next)?;
            let run_at = run_at_ms.to_string();
            self.settle(
                delivery,
                &self.scripts.retry,
                &[&scheduled],
                &[&run_at, &body],
            )
            .await
            .map(|_| ())
        })
    }

    fn bury<'a>(
        &'a self,
        delivery: &'a Delivery,
        dead: &'a DeadJob,
    ) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            let (hash, index) = self.dead_keys();
            let body = json(dead)?;
            let (id, failed_at) = (dead.id.to_string(), dead.failed_at_ms.to_string());
            self.settle(
                delivery,
                &self.scripts.bury,
                &[&hash, &index],
                &[&id, &body, &failed_at],
            )
            .await
            .map(|_| ())
        })
    }

    fn bury_unqueued<'a>(&'a self, dead: &'a DeadJob) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            let (hash, index) = self.dead_keys();
            let body = json(dead)?;
            let (id, failed_at) = (dead.id.to_string(), dead.failed_at_ms.to_string());
            self.script(
                &self.scripts.bury_unqueued,
                &[&hash, &index],
                &[&id, &body, &failed_at],
                None,
            )
            .await
            .map(|_| ())
        })
    }

    fn release<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            self.settle(delivery, &self.scripts.release, &[], &[])
                .await
                .map(|_| ())
        })
    }

    fn prune_dead<'a>(
        &'a self,
        max_age: Duration,
        keep: usize,
    ) -> BoxFuture<'a, Result<u64, QueueError>> {
        Box::pin(self.prune_dead_now(max_age, keep))
    }

    fn forget_consumer(&self, consumer: &str) {
        // Dropping the last handle closes the connection (its driver task ends); a read still
        // blocked on it holds a clone until it returns, at most the block time later.
        let suffix = format!("\0{consumer}");
        lock(&self.blocking).retain(|key, _| !key.ends_with(&suffix));
    }

    fn dead<'a>(&'a self, limit: usize) -> BoxFuture<'a, Result<Vec<DeadJob>, QueueError>> {
        Box::pin(self.dead_now(limit))
    }

    fn revive<'a>(&'a self, id: JobId) -> BoxFuture<'a, Result<Revival, QueueError>> {
        Box::pin(self.revive_now(id))
    }

    fn discard<'a>(&'a self, id: JobId) -> BoxFuture<'a, Result<bool, QueueError>> {
        Box::pin(self.discard_now(id))
    }

    fn stats<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<QueueStats, QueueError>> {
        Box::pin(self.stats_now(queue))
    }

    fn claim_tick<'a>(
        &'a self,
        job: &'a str,
        tick_ms: i64,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, QueueError>> {
        Box::pin(async move {
            let key = format!("{}jobs:cron:{job}:{tick_ms}", self.prefix);
            let mut command = ::redis::cmd("SET");
            command
                .arg(&key)
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(millis(ttl).max(1));
            let mut connection = self.shared.clone();
            match self.query(&mut connection, &command, None).await? {
                Value::Okay => Ok(true),
                Value::SimpleString(text) if text == "OK" => Ok(true),
                Value::Nil => Ok(false),
                other => Err(reply::unexpected("SET NX", &other)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_redis_7_or_later_is_supported() {
        let info = |version: &str| {
            format!("# Server\r\nredis_version:{version}\r\nredis_mode:standalone\r\n")
        };
        assert!(matches!(supported_version(&info("7.0.15")), Ok((7, 0, 15))));
        assert!(matches!(supported_version(&info("7.0.0")), Ok((7, 0, 0))));
        assert!(matches!(
            supported_version(&info("255.255.255")),
            Ok((255, 255, 255))
        ));
        let refused = |info: &str| match supported_version(info) {
            Err(QueueError::UnsupportedServer { found, required }) => (found, required),
            other => panic!("{info:?}: {other:?}"),
        };
        assert_eq!(refused(&info("6.2.14")), ("6.2.14".to_owned(), "7.0"));
        assert_eq!(refused(&info("6.9.99")).0, "6.9.99");
        assert_eq!(refused(&info("garbage")).0, "garbage");
        assert!(refused("# Server\r\n").0.contains("no redis_version"));
        // What an operator sees names both versions.
        let message = supported_version(&info("6.2.14"))
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(
            message.contains("6.2.14") && message.contains("7.0"),
            "{message}"
        );
        // Cut short and printable, whatever the server says.
        let long = refused(&info(&format!("7\u{7}{}", "9".repeat(100)))).0;
        assert!(long.len() <= 40 && !long.contains('\u{7}'), "{long}");
    }
}
