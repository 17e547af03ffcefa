//! The set of jobs an app declares ([`JobSet`]) and the handle that enqueues them ([`Jobs`]).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use sha2::{Digest, Sha256};

use super::ctx::JobCtx;
use super::job::{Job, JobId, JobResult, JobSpec};
use super::memory::MemoryQueue;
use super::queue::{
    DeadJob, Enqueued, JobRecord, Queue, QueueError, QueueStats, Revival, millis, now_ms,
};
use crate::dependency::Dependencies;
use crate::error::ApiError;
use crate::resource::{CursorKey, Scope};

/// Decodes a payload and starts the job; `Err` when the payload does not decode.
type Runner =
    Arc<dyn Fn(JobCtx, &str) -> Result<BoxFuture<'static, JobResult>, String> + Send + Sync>;

/// One registered job.
#[derive(Clone)]
pub(crate) struct Registered {
    pub(crate) spec: &'static JobSpec,
    pub(crate) runner: Runner,
    /// The payload of a scheduled run ([`Job::scheduled_input`], serialized), or why it does
    /// not serialize; `None` for a job that is not scheduled.
    pub(crate) scheduled: Option<Result<String, String>>,
}

/// The jobs an app declares, by name: `JobSet::new().job(send_welcome).job(export_project)`.
/// The API process and the worker register the same set.
#[derive(Clone, Default)]
pub struct JobSet {
    by_name: BTreeMap<&'static str, Registered>,
    duplicates: Vec<&'static str>,
}

impl JobSet {
    /// No jobs.
    pub fn new() -> Self {
        Self::default()
    }

    /// The set with `job` added. Two jobs with one name are refused when the app is built
    /// (`JobsError::DuplicateName`).
    pub fn job<J: Job>(mut self, job: J) -> Self {
        let spec = job.spec();
        let runner: Runner = Arc::new(move |ctx, payload| {
            let input: J::Input =
                serde_json::from_str(payload).map_err(|error| undecodable(&error))?;
            Ok(job.run(ctx, input))
        });
        let scheduled = job
            .scheduled_input()
            .map(|input| serde_json::to_string(&input).map_err(|error| error.to_string()));
        let registered = Registered {
            spec,
            runner,
            scheduled,
        };
        if self.by_name.insert(spec.name, registered).is_some() {
            self.duplicates.push(spec.name);
        }
        self
    }

    /// Whether no job is declared.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The declared jobs.
    pub fn specs(&self) -> impl Iterator<Item = &'static JobSpec> + '_ {
        self.by_name.values().map(|registered| registered.spec)
    }

    /// The queues the declared jobs run on, each once.
    pub fn queues(&self) -> Vec<&'static str> {
        let mut queues: Vec<&'static str> = self.specs().map(|spec| spec.queue).collect();
        queues.sort_unstable();
        queues.dedup();
        queues
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Registered> {
        self.by_name.get(name)
    }

    /// The first `Dep<T>` a job takes that `dependencies` does not hold, as (job name, type
    /// name): the app refuses to start a worker then (`JobsError::MissingDependency`), rather
    /// than fail the job's first attempt.
    pub fn unregistered_dependency(
        &self,
        dependencies: &Dependencies,
    ) -> Option<(&'static str, &'static str)> {
        self.specs().find_map(|spec| {
            spec.deps
                .iter()
                .filter_map(|probe| probe())
                .find(|key| !dependencies.contains(*key))
                .map(|key| (spec.name, key.type_name()))
        })
    }

    /// Names registered twice.
    pub fn duplicates(&self) -> &[&'static str] {
        &self.duplicates
    }
}

impl fmt::Debug for JobSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.by_name.keys()).finish()
    }
}

/// How to enqueue, beyond the job and its input.
#[derive(Debug, Clone, Default)]
pub struct EnqueueOptions {
    pub(crate) delay: Option<Duration>,
    scope: Option<Scope>,
    unique_key: Option<String>,
}

impl EnqueueOptions {
    /// Run no sooner than `delay` from now.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Give the job `scope` (captured and signed now, verified by the worker: `JobCtx::scope`).
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = Some(scope);
        self
    }

    /// For a `unique` job, collapse by this key instead of by the payload.
    pub fn unique_key(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }
}

/// The enqueue handle, as handlers and jobs receive it (`jobs: Dep<Jobs>`, `ctx.jobs()`).
/// Cheap to clone.
#[derive(Clone)]
pub struct Jobs {
    inner: Arc<Inner>,
}

struct Inner {
    queue: Arc<dyn Queue>,
    set: JobSet,
    cursor_key: CursorKey,
    /// `true` for the in-process queue (development and tests).
    in_process: bool,
}

impl fmt::Debug for Jobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jobs")
            .field("jobs", &self.inner.set)
            .field("in_process", &self.inner.in_process)
            .finish()
    }
}

impl Jobs {
    /// A handle on `queue` for the jobs of `set`; `cursor_key` signs captured scopes.
    pub fn new(queue: Arc<dyn Queue>, set: JobSet, cursor_key: CursorKey) -> Self {
        Self::build(queue, set, cursor_key, false)
    }

    /// A handle on a fresh in-process queue (development and tests: see `memory.rs`).
    pub fn in_process(set: JobSet, cursor_key: CursorKey) -> Self {
        Self::build(Arc::new(MemoryQueue::new()), set, cursor_key, true)
    }

    fn build(queue: Arc<dyn Queue>, set: JobSet, cursor_key: CursorKey, in_process: bool) -> Self {
        Self {
            inner: Arc::new(Inner {
                queue,
                set,
                cursor_key,
                in_process,
            }),
        }
    }

    /// Queues `job` to run now. An unavailable queue is a 503 (`UNAVAILABLE`): the job was not
    /// accepted, and the caller knows it.
    pub async fn enqueue<J: Job>(&self, job: J, input: J::Input) -> Result<JobId, ApiError> {
        self.enqueue_with(job, input, EnqueueOptions::default())
            .await
            .map(Enqueued::id)
    }

    /// Queues `job` to run no sooner than `delay` from now.
    pub async fn enqueue_in<J: Job>(
        &self,
        delay: Duration,
        job: J,
        input: J::Input,
    ) -> Result<JobId, ApiError> {
        self.enqueue_with(job, input, EnqueueOptions::default().delay(delay))
            .await
            .map(Enqueued::id)
    }

    /// Queues `job` with the owner scope `scope`, which the job gets back from
    /// [`JobCtx::scope`] (and no other).
    pub async fn enqueue_for<J: Job>(
        &self,
        scope: &Scope,
        job: J,
        input: J::Input,
    ) -> Result<JobId, ApiError> {
        self.enqueue_with(job, input, EnqueueOptions::default().scope(*scope))
            .await
            .map(Enqueued::id)
    }

    /// Queues `job` with options; says whether a `unique` job collapsed into an earlier one.
    pub async fn enqueue_with<J: Job>(
        &self,
        job: J,
        input: J::Input,
        options: EnqueueOptions,
    ) -> Result<Enqueued, ApiError> {
        let spec = job.spec();
        let (record, unique_key) = self.record::<J>(spec, &input, &options)?;
        let run_at = options
            .delay
            .map(|delay| now_ms().saturating_add(millis(delay)));
        let unique = unique_key.as_deref().zip(spec.unique);
        self.push(spec, &record, run_at, unique)
            .await
            .map_err(queue_error)
    }

    /// Every enqueue's last step: the queue's push, then its metric and log line.
    async fn push(
        &self,
        spec: &'static JobSpec,
        record: &JobRecord,
        run_at: Option<i64>,
        unique: Option<(&str, Duration)>,
    ) -> Result<Enqueued, QueueError> {
        let enqueued = self.inner.queue.push(record, run_at, unique).await?;
        if let Enqueued::New(id) = enqueued {
            metrics::counter!("jobs_enqueued_total", "queue" => spec.queue, "job" => spec.name)
                .increment(1);
            tracing::debug!(target: "rampart::jobs", job = spec.name, queue = spec.queue, job_id = %id, "job enqueued");
        }
        Ok(enqueued)
    }

    /// Enqueues the scheduled run of the job named `name` at `tick_ms`, with its
    /// [`Job::scheduled_input`], collapsing under the unique key `cron:{job}:{tick}` for
    /// `window` (a repeat of this call enqueues nothing). `Ok(None)` when `name` is not a
    /// scheduled job of this set.
    pub(crate) async fn enqueue_tick(
        &self,
        name: &str,
        tick_ms: i64,
        window: Duration,
    ) -> Result<Option<Enqueued>, QueueError> {
        let Some(registered) = self.inner.set.get(name) else {
            return Ok(None);
        };
        let spec = registered.spec;
        let payload = match &registered.scheduled {
            None => return Ok(None),
            Some(Ok(payload)) => payload.clone(),
            Some(Err(error)) => {
                return Err(QueueError::Protocol(format!(
                    "job `{}`: the scheduled input does not serialize: {error}",
                    spec.name
                )));
            }
        };
        let record = self.record_of(spec, payload, None);
        let key = format!("cron:{}:{tick_ms}", spec.name);
        self.push(spec, &record, None, Some((&key, window)))
            .await
            .map(Some)
    }

    /// The record `enqueue` queues, and its unique key when the job is `unique`.
    pub(crate) fn record<J: Job>(
        &self,
        spec: &'static JobSpec,
        input: &J::Input,
        options: &EnqueueOptions,
    ) -> Result<(JobRecord, Option<String>), ApiError> {
        if self.inner.set.get(spec.name).is_none() {
            return Err(ApiError::internal(format!(
                "job `{}` is not registered: add it to the app's JobSet",
                spec.name
            )));
        }
        let payload = serde_json::to_string(input).map_err(|error| {
            ApiError::internal(format!(
                "job `{}`: the input does not serialize: {error}",
                spec.name
            ))
        })?;
        let unique_key = spec.unique.map(|_| {
            let key = options
                .unique_key
                .clone()
                .unwrap_or_else(|| payload.clone());
            let digest = Sha256::digest(format!("{}\0{key}", spec.name));
            let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
            format!("{}:{hex}", spec.name)
        });
        let mut record = self.record_of(spec, payload, None);
        record.scope = options.scope.as_ref().map(|scope| {
            scope.capture_bound(&self.inner.cursor_key, &scope_binding(spec.name, record.id))
        });
        Ok((record, unique_key))
    }

    /// A new record of `spec` with `payload`, at attempt 1.
    fn record_of(
        &self,
        spec: &'static JobSpec,
        payload: String,
        scope: Option<crate::resource::CapturedScope>,
    ) -> JobRecord {
        JobRecord {
            id: JobId::new(),
            job: spec.name.to_owned(),
            queue: spec.queue.to_owned(),
            payload,
            attempt: 1,
            enqueued_at_ms: now_ms(),
            // A job enqueued by a job carries the first job's origin on.
            request_id: crate::context::origin_request_id().map(|id| id.as_str().to_owned()),
            traceparent: crate::context::origin_trace()
                .and_then(|trace| trace.header_value().to_str().ok().map(str::to_owned)),
            scope,
            last_error: None,
        }
    }

    /// Dead jobs, newest first (at most `limit`).
    pub async fn dead(&self, limit: usize) -> Result<Vec<DeadJob>, ApiError> {
        self.inner.queue.dead(limit).await.map_err(queue_error)
    }

    /// Queues a dead job again from its first attempt (or says why not).
    pub async fn revive(&self, id: JobId) -> Result<Revival, ApiError> {
        self.inner.queue.revive(id).await.map_err(queue_error)
    }

    /// Deletes a dead job; `false` if there is no such dead job.
    pub async fn discard(&self, id: JobId) -> Result<bool, ApiError> {
        self.inner.queue.discard(id).await.map_err(queue_error)
    }

    /// The counts of one queue.
    pub async fn stats(&self, queue: &str) -> Result<QueueStats, ApiError> {
        self.inner.queue.stats(queue).await.map_err(queue_error)
    }

    /// Whether this handle's queue is the in-process one.
    pub fn is_in_process(&self) -> bool {
        self.inner.in_process
    }

    /// The declared jobs.
    pub fn set(&self) -> &JobSet {
        &self.inner.set
    }

    /// The queue itself (tests and operator tools; handlers enqueue through the methods
    /// above).
    pub fn queue(&self) -> &Arc<dyn Queue> {
        &self.inner.queue
    }
}

/// A queue failure as the API answers it: unavailable is a 503 with `Retry-After`; anything
/// else a 500 (logged, not shown).
pub(crate) fn queue_error(error: QueueError) -> ApiError {
    match error {
        QueueError::Unavailable(reason) => {
            tracing::warn!(target: "rampart::jobs", reason = %reason, "job queue unavailable");
            ApiError::unavailable(1)
        }
        QueueError::Protocol(reason) => ApiError::internal(reason),
        unsupported @ QueueError::UnsupportedServer { .. } => ApiError::internal(unsupported),
    }
}

/// Why a payload does not decode, without the payload: serde's messages quote the values they
/// refuse (an email, a name), and this text reaches log lines and the dead-letter listing.
pub(crate) fn undecodable(error: &serde_json::Error) -> String {
    let kind = match error.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "JSON of the wrong shape for the job's input",
        serde_json::error::Category::Eof => "truncated JSON",
    };
    format!(
        "the payload does not decode: {kind} (line {}, column {})",
        error.line(),
        error.column()
    )
}

/// What a captured scope is bound to: the job it was enqueued with (name and id), so a capture
/// copied into another record (another job, another run) does not verify.
pub(crate) fn scope_binding(job: &str, id: JobId) -> Vec<u8> {
    format!("{job}\0{id}").into_bytes()
}
