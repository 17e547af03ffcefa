//! The worker: takes deliveries from each queue up to its concurrency, runs each job under
//! its timeout while renewing its lease, then completes, retries or buries it, in one atomic
//! queue step each. A delivery handed out more than `max_deliveries` times (each earlier one
//! lost with its worker) is buried unrun. Beside the queues it runs the scheduler of `cron`
//! jobs (`schedule.rs`) and the dead-letter queue's retention. On shutdown it stops taking
//! jobs, lets the running ones finish within the grace period, and gives the rest back to the
//! queue.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::ctx::{JobCtx, JobServices};
use super::job::JobSpec;
use super::queue::{DeadJob, Delivery, JobRecord, Queue, QueueError, now_ms};

/// How a worker runs (`RAMPART_JOB_*`, see the configuration table).
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Jobs run at once per queue, unless `per_queue` says otherwise.
    pub concurrency: usize,
    /// Concurrency of named queues (`RAMPART_JOB_CONCURRENCY=mail=8,exports=2`).
    pub per_queue: BTreeMap<String, usize>,
    /// How long a delivery stays with its worker without a renewal; a running job renews it
    /// every third of this, so only a dead worker's jobs are handed out again.
    pub lease: Duration,
    /// How long running jobs may take to finish after shutdown begins.
    pub shutdown_grace: Duration,
    /// How long one fetch waits for work (and so how long shutdown waits for a fetch).
    pub poll_wait: Duration,
    /// How many times one attempt of a job may be handed out (`RAMPART_JOB_MAX_DELIVERIES`,
    /// default 5). A delivery is handed out again only when its worker stopped (crashed, was
    /// killed, ran out of memory) or lost its lease without settling it, and that does not
    /// count as an attempt: a job that kills its worker would otherwise run forever. A
    /// delivery past the limit goes to the dead-letter queue unrun. Given-back deliveries
    /// (shutdown) do not count.
    pub max_deliveries: u32,
    /// Dead jobs older than this are deleted (`RAMPART_JOB_DEAD_RETENTION`, default 30 days).
    pub dead_retention: Duration,
    /// At most this many dead jobs are kept, the newest (`RAMPART_JOB_DEAD_MAX`, default
    /// 10,000).
    pub dead_max: usize,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            concurrency: 4,
            per_queue: BTreeMap::new(),
            lease: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(25),
            poll_wait: Duration::from_secs(1),
            max_deliveries: 5,
            dead_retention: Duration::from_secs(30 * 24 * 3600),
            dead_max: 10_000,
        }
    }
}

/// What a worker did before it stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerReport {
    /// Deliveries that succeeded.
    pub done: u64,
    /// Deliveries that failed and were queued again.
    pub retried: u64,
    /// Deliveries moved to the dead-letter queue.
    pub dead: u64,
    /// Deliveries given back unfinished at shutdown.
    pub released: u64,
}

/// A worker for every queue of the app's jobs.
pub struct Worker {
    shared: Arc<Shared>,
}

struct Shared {
    services: JobServices,
    settings: WorkerSettings,
    consumer: String,
    report: Mutex<WorkerReport>,
    /// Running deliveries that were lost at least twice before ([`SUSPECT_FROM`]).
    suspects: AtomicUsize,
}

/// A delivery handed out this many times (lost at least twice: its workers stopped each time)
/// may be a job that kills its worker. A worker runs one such at a time, and takes over nothing
/// while it runs: the jobs beside a crashing job lose their delivery with it, and a job that
/// crashes every worker it runs on then takes no other job down with it more than twice.
const SUSPECT_FROM: u32 = 3;

/// Counts a running suspect delivery in [`Shared::suspects`] while it lives.
struct Suspect(Arc<Shared>);

impl Drop for Suspect {
    fn drop(&mut self) {
        self.0.suspects.fetch_sub(1, Ordering::AcqRel);
    }
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("consumer", &self.shared.consumer)
            .field("settings", &self.shared.settings)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker running the jobs of `services.jobs` with `services`.
    pub fn new(services: JobServices, settings: WorkerSettings) -> Self {
        let mut seed = [0u8; 6];
        let _ = getrandom::fill(&mut seed);
        let suffix: String = seed.iter().map(|b| format!("{b:02x}")).collect();
        let consumer = format!("worker-{}-{suffix}", std::process::id());
        Self {
            shared: Arc::new(Shared {
                services,
                settings,
                consumer,
                report: Mutex::default(),
                suspects: AtomicUsize::new(0),
            }),
        }
    }

    /// This worker's name in the queue (its consumer name on Redis).
    pub fn consumer(&self) -> &str {
        &self.shared.consumer
    }

    /// Runs every queue until `shutdown` resolves, then drains (see the module docs).
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> WorkerReport {
        // On every way out, a cancelled `run` too: a process that starts workers again and
        // again must not keep the connections of the stopped ones.
        let _forget = ForgetConsumer(&self.shared);
        let (stop, stopped) = watch::channel(false);
        let mut queues = JoinSet::new();
        for queue in self.shared.services.jobs.set().queues() {
            queues.spawn(serve_queue(self.shared.clone(), queue, stopped.clone()));
        }
        queues.spawn(record_stats(self.shared.clone(), stopped.clone()));
        queues.spawn(prune_dead(self.shared.clone(), stopped.clone()));
        queues.spawn(super::schedule::schedule(
            self.shared.services.jobs.clone(),
            stopped.clone(),
        ));
        queues.spawn(self.shared.services.clone().relay(stopped.clone()));
        tracing::info!(target: "rampart::jobs", consumer = %self.shared.consumer, queues = ?self.shared.services.jobs.set().queues(), "worker started");
        shutdown.await;
        tracing::info!(target: "rampart::jobs", consumer = %self.shared.consumer, "worker stopping: draining running jobs");
        let _ = stop.send(true);
        while queues.join_next().await.is_some() {}
        let report = *self
            .shared
            .report
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        tracing::info!(target: "rampart::jobs", consumer = %self.shared.consumer, done = report.done, retried = report.retried, dead = report.dead, released = report.released, "worker stopped");
        report
    }
}

/// Tells the queue the worker stopped, when dropped.
struct ForgetConsumer<'a>(&'a Shared);

impl Drop for ForgetConsumer<'_> {
    fn drop(&mut self) {
        self.0
            .services
            .jobs
            .queue()
            .forget_consumer(&self.0.consumer);
    }
}

/// Runs one queue until told to stop, then drains it.
async fn serve_queue(shared: Arc<Shared>, queue: &'static str, mut stop: watch::Receiver<bool>) {
    let concurrency = shared
        .settings
        .per_queue
        .get(queue)
        .copied()
        .unwrap_or(shared.settings.concurrency)
        .max(1);
    let backend = shared.services.jobs.queue().clone();
    let in_flight: Arc<Mutex<HashMap<String, Delivery>>> = Arc::default();
    let mut running = JoinSet::new();
    let mut failures = 0u32;
    while !*stop.borrow() {
        while running.try_join_next().is_some() {}
        let free = concurrency.saturating_sub(running.len());
        if free == 0 {
            tokio::select! {
                _ = running.join_next() => continue,
                _ = stop.changed() => break,
            }
        }
        // Expired leases are taken over one per fetch, and none while a suspect runs here (see
        // `SUSPECT_FROM`); the others wait for the next fetch, or another worker.
        let takeovers = usize::from(shared.suspects.load(Ordering::Acquire) == 0);
        // Not raced against `stop`: a fetch cancelled after the queue handed out jobs would
        // strand them until their lease expires. A fetch waits at most `poll_wait`.
        let fetched = backend
            .fetch_limited(
                queue,
                &shared.consumer,
                free,
                takeovers,
                shared.settings.poll_wait,
                shared.settings.lease,
            )
            .await;
        match fetched {
            Ok(deliveries) => {
                failures = 0;
                for delivery in deliveries {
                    // Already running here (this worker's own lease lapsed and its fetch took
                    // the entry back): the running attempt notices and stops; never start a
                    // second one beside it.
                    if lock(&in_flight).contains_key(&delivery.token) {
                        continue;
                    }
                    lock(&in_flight).insert(delivery.token.clone(), delivery.clone());
                    // Counted before the next fetch; one past the limit is buried, not run.
                    let suspect = (SUSPECT_FROM..=shared.settings.max_deliveries)
                        .contains(&delivery.deliveries)
                        .then(|| {
                            shared.suspects.fetch_add(1, Ordering::AcqRel);
                            Suspect(shared.clone())
                        });
                    running.spawn(run_delivery(
                        shared.clone(),
                        delivery,
                        in_flight.clone(),
                        suspect,
                    ));
                }
            }
            Err(error) => {
                // The queue is down: back off (up to 5 s) and try again; the connection
                // reconnects by itself when the server returns.
                failures = failures.saturating_add(1);
                if failures == 1 || failures.is_multiple_of(20) {
                    tracing::warn!(target: "rampart::jobs", queue, error = %error, "cannot fetch jobs; retrying");
                }
                metrics::counter!("jobs_fetch_errors_total", "queue" => queue).increment(1);
                let pause =
                    Duration::from_millis(100u64 << failures.min(6)).min(Duration::from_secs(5));
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    _ = stop.changed() => break,
                }
            }
        }
    }
    drain(&shared, &*backend, queue, running, &in_flight).await;
}

/// Lets running jobs finish within the grace period, then gives the rest back.
async fn drain(
    shared: &Shared,
    backend: &dyn Queue,
    queue: &str,
    mut running: JoinSet<()>,
    in_flight: &Mutex<HashMap<String, Delivery>>,
) {
    let grace = tokio::time::sleep(shared.settings.shutdown_grace);
    tokio::pin!(grace);
    loop {
        tokio::select! {
            next = running.join_next() => if next.is_none() { break },
            () = &mut grace => {
                running.abort_all();
                while running.join_next().await.is_some() {}
                break;
            }
        }
    }
    let left: Vec<Delivery> = lock(in_flight)
        .drain()
        .map(|(_, delivery)| delivery)
        .collect();
    for delivery in left {
        match backend.release(&delivery).await {
            Ok(()) => shared.count(|report| report.released += 1),
            // Not given back: it is handed out again when its lease expires.
            Err(error) => {
                tracing::warn!(target: "rampart::jobs", queue, error = %error, "cannot release a job at shutdown; it runs again after its lease")
            }
        }
    }
}

/// How one delivery ended.
enum Outcome {
    Done,
    /// The lease was lost (taken over after renewals failed for a whole lease): the job was
    /// stopped, and its new holder settles it.
    LeaseLost,
    /// Failed; retried unless it was the last attempt.
    Failed(String),
    /// Failed in a way no retry fixes.
    Permanent(String),
    /// The entry or its payload does not decode.
    Poison(String),
}

/// Aborts the job's task if the worker stops waiting for it (timeout, shutdown past grace).
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn run_delivery(
    shared: Arc<Shared>,
    delivery: Delivery,
    in_flight: Arc<Mutex<HashMap<String, Delivery>>>,
    // Held until the attempt ends (or is aborted): the worker takes over nothing meanwhile.
    _suspect: Option<Suspect>,
) {
    let started = Instant::now();
    // Decremented on drop, so an attempt aborted at the end of the grace period counts too.
    let _gauge = InFlightGauge::new(&delivery.queue);
    // The job's origin: the enqueuing request's id and the job's trace, which the job's own
    // lines and the worker's lines about it name.
    let mut origin = delivery.record.as_ref().map(origin_of).unwrap_or_default();
    let (outcome, spec) = execute(&shared, &delivery, &mut origin).await;
    let elapsed = started.elapsed();
    crate::context::job_scope(origin, settle(&shared, &delivery, spec, outcome, elapsed)).await;
    lock(&in_flight).remove(&delivery.token);
}

/// `jobs_in_flight{queue}` up while it lives.
struct InFlightGauge(metrics::Gauge);

impl InFlightGauge {
    fn new(queue: &str) -> Self {
        let gauge = metrics::gauge!("jobs_in_flight", "queue" => queue.to_owned());
        gauge.increment(1.0);
        Self(gauge)
    }
}

impl Drop for InFlightGauge {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

async fn execute(
    shared: &Shared,
    delivery: &Delivery,
    origin: &mut crate::context::JobOrigin,
) -> (Outcome, Option<&'static JobSpec>) {
    let record = match &delivery.record {
        Ok(record) => record,
        Err(poison) => return (Outcome::Poison(poison.reason.clone()), None),
    };
    let jobs = &shared.services.jobs;
    if delivery.deliveries > shared.settings.max_deliveries {
        let lost = delivery.deliveries - 1;
        let spec = jobs
            .set()
            .get(&record.job)
            .map(|registered| registered.spec);
        let plural = if lost == 1 { "delivery" } else { "deliveries" };
        return (
            Outcome::Permanent(format!(
                "its worker stopped during {lost} {plural} without settling it (crashed, killed, or lost its lease); not run again"
            )),
            spec,
        );
    }
    let Some(registered) = jobs.set().get(&record.job) else {
        // Retried with the default schedule, not buried: during a rolling deploy an upgraded
        // API can enqueue a job the workers learn about a few minutes later.
        return (
            Outcome::Failed(format!(
                "no job named `{}` is registered in this worker",
                record.job
            )),
            None,
        );
    };
    let spec = registered.spec;
    let ctx = JobCtx::new(
        Arc::new(record.clone()),
        spec.retries.saturating_add(1),
        shared.services.clone(),
    );
    let future = match (registered.runner)(ctx, &record.payload) {
        Ok(future) => future,
        Err(reason) => return (Outcome::Poison(reason), Some(spec)),
    };
    // Its own task, so a panic in the job is a failed attempt, not a dead worker; with the
    // enqueuing request's id and trace as its origin, and inside the job's span when spans
    // are exported (which continues that trace).
    let producer = record
        .traceparent
        .as_deref()
        .and_then(crate::trace::Remote::from_traceparent);
    let task = match crate::spans::job(&record.job, &record.queue, producer.as_ref()) {
        Some((span, trace)) => {
            origin.trace = Some(trace);
            let future = crate::context::job_scope(origin.clone(), future);
            tokio::spawn(tracing::Instrument::instrument(future, span))
        }
        None => tokio::spawn(crate::context::job_scope(origin.clone(), future)),
    };
    let _abort = AbortOnDrop(task.abort_handle());
    // In the job's scope, so the worker's lines about the lease name the job's trace too.
    let renewals = crate::context::job_scope(origin.clone(), renew_lease(shared, delivery));
    let outcome = tokio::select! {
        () = renewals => Outcome::LeaseLost,
        finished = tokio::time::timeout(spec.timeout, task) => match finished {
            Err(_) => Outcome::Failed(format!("timed out after {} ms", spec.timeout.as_millis())),
            Ok(Err(error)) if error.is_panic() => Outcome::Failed("the job panicked".to_owned()),
            Ok(Err(_)) => Outcome::Failed("the job was cancelled".to_owned()),
            Ok(Ok(Ok(()))) => Outcome::Done,
            Ok(Ok(Err(error))) if error.is_permanent() => Outcome::Permanent(error.message().to_owned()),
            Ok(Ok(Err(error))) => Outcome::Failed(error.message().to_owned()),
        },
    };
    (outcome, Some(spec))
}

/// The request id and trace a job's outgoing work names: the enqueuing request's id, and a
/// span of the job in the enqueuing span's trace (none when it was enqueued outside a trace).
fn origin_of(record: &JobRecord) -> crate::context::JobOrigin {
    let request_id = record
        .request_id
        .as_deref()
        .and_then(|id| axum::http::HeaderValue::from_str(id).ok())
        .and_then(|id| crate::context::RequestId::accept(&id));
    let trace = record.traceparent.as_deref().and_then(|traceparent| {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            crate::trace::TRACEPARENT,
            axum::http::HeaderValue::from_str(traceparent).ok()?,
        );
        let remote = crate::trace::Remote::from_headers(&headers)?;
        let sampled = remote.sampled;
        Some(crate::trace::TraceContext::start(
            Some(remote),
            sampled,
            crate::context::next_random,
        ))
    });
    crate::context::JobOrigin { request_id, trace }
}

/// Renews the delivery's lease every third of it, for as long as the job runs; returns when
/// the lease is lost: the queue says another worker holds it, or no renewal has succeeded for
/// a whole lease (another worker may have taken it over by now). The caller then stops the job.
async fn renew_lease(shared: &Shared, delivery: &Delivery) {
    let lease = shared.settings.lease;
    let period = (lease / 3).max(Duration::from_millis(10));
    let mut ticks = tokio::time::interval(period);
    ticks.tick().await;
    let mut renewed = Instant::now();
    loop {
        ticks.tick().await;
        match shared.services.jobs.queue().renew(delivery).await {
            Ok(true) => renewed = Instant::now(),
            Ok(false) => {
                tracing::warn!(target: "rampart::jobs", queue = %delivery.queue, "a job's lease was taken over; stopping this attempt");
                return;
            }
            Err(error) => {
                tracing::warn!(target: "rampart::jobs", queue = %delivery.queue, error = %error, "cannot renew a job's lease");
                if renewed.elapsed() >= lease {
                    return;
                }
            }
        }
    }
}

async fn settle(
    shared: &Shared,
    delivery: &Delivery,
    spec: Option<&'static JobSpec>,
    outcome: Outcome,
    elapsed: Duration,
) {
    let backend = shared.services.jobs.queue();
    let record = delivery.record.as_ref().ok();
    let job = record.map_or("unknown", |record| record.job.as_str());
    let attempt = record.map_or(1, |record| record.attempt);
    // A job this worker does not know retries on the default schedule (see `execute`).
    let defaults = JobSpec::new("");
    let schedule = spec.unwrap_or(&defaults);
    let max_attempts = schedule.retries.saturating_add(1);
    let duration_ms = elapsed.as_secs_f64() * 1000.0;
    let job_id = record.map(|record| record.id.to_string());
    let label = spec.map_or("unknown", |spec| spec.name);
    metrics::histogram!("jobs_duration_seconds", "queue" => delivery.queue.clone(), "job" => label)
        .record(elapsed.as_secs_f64());
    let (kind, error) = match outcome {
        Outcome::LeaseLost => {
            tracing::warn!(target: "rampart::jobs", job, queue = %delivery.queue, job_id, attempt, duration_ms, "job stopped: its lease was lost; the worker holding it now settles it");
            ("lease_lost", None)
        }
        Outcome::Done => {
            tracing::info!(target: "rampart::jobs", job, queue = %delivery.queue, job_id, attempt, duration_ms, "job done");
            persist(|| backend.complete(delivery)).await;
            shared.count(|report| report.done += 1);
            ("done", None)
        }
        Outcome::Failed(error) if attempt < max_attempts => {
            let Some(record) = record else {
                return;
            };
            let next = JobRecord {
                attempt: attempt + 1,
                last_error: Some(error.clone()),
                ..record.clone()
            };
            let delay = schedule.backoff.delay(attempt + 1, jitter_unit());
            let run_at = now_ms().saturating_add(super::queue::millis(delay));
            tracing::warn!(target: "rampart::jobs", job, queue = %delivery.queue, job_id, attempt, duration_ms, error = %error, retry_in_ms = delay.as_millis() as u64, "job failed; retrying");
            persist(|| backend.retry(delivery, &next, run_at)).await;
            shared.count(|report| report.retried += 1);
            ("retry", Some(error))
        }
        Outcome::Failed(error) | Outcome::Permanent(error) | Outcome::Poison(error) => {
            let dead = dead_job(delivery, attempt, &error);
            tracing::error!(target: "rampart::jobs", job, queue = %delivery.queue, job_id = %dead.id, attempt, duration_ms, error = %error, "job moved to the dead-letter queue");
            persist(|| backend.bury(delivery, &dead)).await;
            shared.count(|report| report.dead += 1);
            ("dead", Some(error))
        }
    };
    let _ = error;
    metrics::counter!("jobs_processed_total", "queue" => delivery.queue.clone(), "job" => label, "outcome" => kind)
        .increment(1);
}

/// The dead-letter record of a delivery.
fn dead_job(delivery: &Delivery, attempt: u32, error: &str) -> DeadJob {
    match &delivery.record {
        Ok(record) => {
            let last = JobRecord {
                last_error: Some(error.to_owned()),
                ..record.clone()
            };
            DeadJob::now(
                record.id,
                Some(record.job.clone()),
                &delivery.queue,
                serde_json::to_string(&last).unwrap_or_default(),
                attempt,
                error,
            )
        }
        Err(poison) => DeadJob::now(
            super::JobId::new(),
            None,
            &delivery.queue,
            poison.raw.clone(),
            0,
            error,
        ),
    }
}

/// Runs a settling step until it succeeds, for up to ~6 s: if the queue stays down the
/// delivery is handed out again when its lease expires (at least once).
async fn persist<'a, F>(step: impl Fn() -> F)
where
    F: Future<Output = Result<(), QueueError>> + 'a,
{
    let mut pause = Duration::from_millis(50);
    for attempt in 1..=8 {
        match step().await {
            Ok(()) => return,
            Err(error) if attempt == 8 => {
                tracing::warn!(target: "rampart::jobs", error = %error, "cannot record a job's outcome; it runs again after its lease");
            }
            Err(_) => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// How often a worker applies the dead-letter queue's retention.
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// Applies the dead-letter queue's retention at start, then every [`PRUNE_EVERY`]. Every worker
/// does (each step is idempotent); a failure is logged and tried again next time.
async fn prune_dead(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(PRUNE_EVERY);
    let (max_age, keep) = (shared.settings.dead_retention, shared.settings.dead_max);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.changed() => return,
        }
        match shared.services.jobs.queue().prune_dead(max_age, keep).await {
            Ok(0) => {}
            Ok(pruned) => {
                tracing::info!(target: "rampart::jobs", pruned, retention_s = max_age.as_secs(), keep, "dead jobs deleted by retention");
                metrics::counter!("jobs_dead_pruned_total").increment(pruned);
            }
            Err(error) => {
                tracing::warn!(target: "rampart::jobs", error = %error, "cannot apply the dead-letter retention; trying again later");
            }
        }
    }
}

/// Publishes each queue's counts as gauges every 5 s.
async fn record_stats(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.changed() => return,
        }
        for queue in shared.services.jobs.set().queues() {
            let Ok(stats) = shared.services.jobs.queue().stats(queue).await else {
                continue;
            };
            metrics::gauge!("jobs_ready", "queue" => queue).set(stats.ready as f64);
            metrics::gauge!("jobs_scheduled", "queue" => queue).set(stats.scheduled as f64);
            metrics::gauge!("jobs_leased", "queue" => queue).set(stats.in_flight as f64);
            metrics::gauge!("jobs_oldest_ready_age_seconds", "queue" => queue)
                .set(stats.oldest_ready_age_ms as f64 / 1000.0);
            metrics::gauge!("jobs_dead").set(stats.dead as f64);
        }
    }
}

impl Shared {
    fn count(&self, update: impl FnOnce(&mut WorkerReport)) {
        update(&mut self.report.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A uniform draw in `[0, 1)` for backoff jitter.
fn jitter_unit() -> f64 {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}
