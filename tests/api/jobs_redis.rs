//! The worker against the Redis queue (`RedisQueue`), on a real Redis: the scenarios of the
//! in-process queue's tests, 1,000 jobs through two workers with every effect counted, and a
//! Redis killed mid-run (on a redis-server of the test's own, with an append-only file) after
//! which every acknowledged job still runs exactly once. Jobs are written by hand (what `#[job]`
//! generates). Each test uses its own key prefix; a Redis that cannot be reached fails the
//! test, it never skips it.

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use rampart::Dependencies;
use rampart::ErrorCode;
use rampart::jobs::{
    Backoff, Delivery, EnqueueOptions, Enqueued, Job, JobCtx, JobError, JobId, JobRecord,
    JobResult, JobServices, JobSet, JobSpec, Jobs, Queue, QueueError, RedisQueue, Revival, Worker,
    WorkerReport, WorkerSettings,
};
use rampart::resource::CursorKey;
use serde::{Deserialize, Serialize};

fn redis_url() -> String {
    std::env::var("RAMPART_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// Runs per job id, and how many ran at once at most.
#[derive(Default)]
struct Effects {
    runs: Mutex<HashMap<JobId, u32>>,
    running: std::sync::atomic::AtomicU32,
    peak: std::sync::atomic::AtomicU32,
}

impl Effects {
    fn total(&self) -> u32 {
        self.lock().values().sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<JobId, u32>> {
        self.runs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Work {
    fail_first: u32,
    #[serde(default)]
    sleep_ms: u64,
    /// Distinguishes otherwise equal payloads of the unique job.
    #[serde(default)]
    tag: u32,
}

static FLAKY: JobSpec = JobSpec {
    retries: 2,
    backoff: Backoff::Fixed {
        delay: Duration::from_millis(40),
    },
    timeout: Duration::from_secs(10),
    ..JobSpec::new("flaky")
};

/// Counts its run, sleeps, and fails while `attempt <= fail_first`.
#[derive(Clone, Copy, Debug)]
struct Flaky;

impl Job for Flaky {
    type Input = Work;
    fn spec(self) -> &'static JobSpec {
        &FLAKY
    }
    fn run(self, ctx: JobCtx, input: Work) -> BoxFuture<'static, JobResult> {
        Box::pin(async move {
            let effects = ctx.dep::<Effects>()?;
            *effects.lock().entry(ctx.id()).or_default() += 1;
            let now = effects.running.fetch_add(1, Ordering::SeqCst) + 1;
            effects.peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(input.sleep_ms)).await;
            effects.running.fetch_sub(1, Ordering::SeqCst);
            if ctx.attempt() <= input.fail_first {
                return Err(JobError::retry(format!(
                    "failing attempt {}",
                    ctx.attempt()
                )));
            }
            Ok(())
        })
    }
}

static ONCE: JobSpec = JobSpec {
    unique: Some(Duration::from_secs(60)),
    ..JobSpec::new("once")
};

#[derive(Clone, Copy, Debug)]
struct Once;

impl Job for Once {
    type Input = Work;
    fn spec(self) -> &'static JobSpec {
        &ONCE
    }
    fn run(self, _ctx: JobCtx, _input: Work) -> BoxFuture<'static, JobResult> {
        Box::pin(async { Ok(()) })
    }
}

struct Harness {
    queue: Arc<RedisQueue>,
    jobs: Jobs,
    effects: Arc<Effects>,
    services: JobServices,
    raw: redis::aio::MultiplexedConnection,
    stream: String,
}

async fn harness_on(url: &str) -> Harness {
    let prefix = format!("rampart-test-{}:", uuid::Uuid::new_v4().simple());
    let client = redis::Client::open(url).unwrap_or_else(|e| panic!("{url}: {e}"));
    let mut raw = client
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("these tests need a Redis at {url}: {e}"));
    let pong: String = redis::cmd("PING")
        .query_async(&mut raw)
        .await
        .unwrap_or_else(|e| panic!("these tests need a Redis at {url}: {e}"));
    assert_eq!(pong, "PONG");
    let queue = Arc::new(
        RedisQueue::connect(url, &prefix)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let key = CursorKey::derive(b"jobs redis test key");
    let jobs = Jobs::new(
        queue.clone(),
        JobSet::new().job(Flaky).job(Once),
        key.clone(),
    );
    let effects = Arc::new(Effects::default());
    let services = JobServices::new(
        None,
        Dependencies::new().with_shared(effects.clone()),
        key,
        jobs.clone(),
    );
    Harness {
        queue,
        jobs,
        effects,
        services,
        raw,
        stream: format!("{prefix}jobs:default"),
    }
}

async fn harness() -> Harness {
    harness_on(&redis_url()).await
}

impl Harness {
    /// A raw command's integer answer (XLEN, ZCARD).
    async fn count(&self, command: &str, key: &str) -> i64 {
        let mut raw = self.raw.clone();
        redis::cmd(command)
            .arg(key)
            .query_async(&mut raw)
            .await
            .unwrap_or_else(|e| panic!("{command} {key}: {e}"))
    }

    /// Deletes the test's keys from the shared Redis.
    async fn cleanup(&self) {
        let mut raw = self.raw.clone();
        let prefix = self.stream.trim_end_matches("jobs:default");
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}*"))
            .query_async(&mut raw)
            .await
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<i64> =
                redis::cmd("DEL").arg(&keys).query_async(&mut raw).await;
        }
    }

    async fn stream_len(&self) -> i64 {
        self.count("XLEN", &self.stream).await
    }

    async fn enqueue(&self, work: Work) -> JobId {
        self.jobs
            .enqueue(Flaky, work)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn runs(&self, id: JobId) -> u32 {
        self.effects.lock().get(&id).copied().unwrap_or(0)
    }
}

fn settings() -> WorkerSettings {
    WorkerSettings {
        concurrency: 4,
        lease: Duration::from_millis(600),
        shutdown_grace: Duration::from_millis(500),
        poll_wait: Duration::from_millis(50),
        ..WorkerSettings::default()
    }
}

/// Runs a worker until `done` holds (checked every 20 ms), then stops it; fails the test if
/// it does not hold within 30 s.
async fn run_until<F, Fut>(
    h: &Harness,
    settings: WorkerSettings,
    what: &str,
    done: F,
) -> WorkerReport
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = bool> + Send,
{
    let reached = AtomicBool::new(false);
    let report = Worker::new(h.services.clone(), settings)
        .run(wait_for(&done, &reached))
        .await;
    assert!(reached.load(Ordering::SeqCst), "{what}: not within 30 s");
    report
}

async fn wait_for<F, Fut>(done: &F, reached: &AtomicBool)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if done().await {
            reached.store(true, Ordering::SeqCst);
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_runs_once_and_leaves_no_stream_entry() {
    let h = harness().await;
    let id = h.enqueue(Work::default()).await;
    assert_eq!(h.stream_len().await, 1);
    let report = run_until(&h, settings(), "the job ran", || async {
        h.runs(id) >= 1 && h.stream_len().await == 0
    })
    .await;
    assert_eq!(report.done, 1);
    assert_eq!(h.runs(id), 1);
    assert_eq!(h.stream_len().await, 0, "a completed job is deleted");
    let stats = h
        .jobs
        .stats("default")
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        (stats.ready, stats.scheduled, stats.in_flight, stats.dead),
        (0, 0, 0, 0)
    );
    h.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_retried_then_buried_with_the_last_error() {
    let h = harness().await;
    // Succeeds on its third attempt (two retries allowed).
    let recovers = h
        .enqueue(Work {
            fail_first: 2,
            ..Work::default()
        })
        .await;
    // Never succeeds: three attempts, then the dead-letter queue.
    let doomed = h
        .enqueue(Work {
            fail_first: 9,
            ..Work::default()
        })
        .await;
    let report = run_until(&h, settings(), "six attempts settled", || async {
        h.effects.total() >= 6
            && h.jobs
                .stats("default")
                .await
                .is_ok_and(|s| s.dead == 1 && s.ready + s.scheduled + s.in_flight == 0)
    })
    .await;
    assert_eq!(
        (h.runs(recovers), h.runs(doomed)),
        (3, 3),
        "3 attempts each"
    );
    assert_eq!((report.done, report.retried, report.dead), (1, 4, 1));
    let dead = h.jobs.dead(10).await.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].id, doomed);
    assert_eq!(dead[0].attempts, 3);
    assert!(
        dead[0].error.contains("failing attempt 3"),
        "{}",
        dead[0].error
    );
    assert_eq!(h.stream_len().await, 0);
    // Revived, it runs again from attempt 1 (and fails three more times).
    assert_eq!(h.jobs.revive(doomed).await.ok(), Some(Revival::Queued));
    assert!(
        h.jobs.revive(doomed).await.ok() == Some(Revival::NotFound),
        "no longer dead"
    );
    run_until(&h, settings(), "the revived job died again", || async {
        h.runs(doomed) >= 6 && h.jobs.stats("default").await.is_ok_and(|s| s.dead == 1)
    })
    .await;
    assert_eq!(h.runs(doomed), 6);
    assert!(h.jobs.discard(doomed).await.unwrap_or(false));
    assert!(!h.jobs.discard(doomed).await.unwrap_or(true));
    assert!(h.jobs.dead(10).await.unwrap_or_default().is_empty());
    h.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_entries_and_payloads_go_straight_to_the_dead_letter_queue() {
    let mut h = harness().await;
    // Two entries written by hand that are not job records, and a record whose payload the
    // job cannot decode.
    let _: String = redis::cmd("XADD")
        .arg(&h.stream)
        .arg("*")
        .arg("record")
        .arg("not json at all")
        .query_async(&mut h.raw)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let _: String = redis::cmd("XADD")
        .arg(&h.stream)
        .arg("*")
        .arg("something")
        .arg("else")
        .query_async(&mut h.raw)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let record = JobRecord {
        id: JobId::new(),
        job: "flaky".to_owned(),
        queue: "default".to_owned(),
        payload: "{\"fail_first\":\"not a number\"}".to_owned(),
        attempt: 1,
        enqueued_at_ms: 0,
        request_id: None,
        traceparent: None,
        scope: None,
        last_error: None,
    };
    h.queue
        .push(&record, None, None)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let report = run_until(&h, settings(), "three dead jobs", || async {
        h.jobs.stats("default").await.is_ok_and(|s| s.dead == 3)
    })
    .await;
    assert_eq!(report.dead, 3);
    assert_eq!(h.effects.total(), 0, "nothing ran");
    assert_eq!(h.stream_len().await, 0);
    let dead = h.jobs.dead(10).await.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(dead.len(), 3);
    assert!(
        dead.iter().all(|d| d.error.contains("does not decode")),
        "{dead:?}"
    );
    let raw = dead
        .iter()
        .find(|d| d.record == "not json at all")
        .unwrap_or_else(|| panic!("the raw entry is kept: {dead:?}"));
    assert_eq!(raw.job, None);
    assert!(
        dead.iter()
            .any(|d| d.job.is_none() && d.record.contains("something")),
        "{dead:?}"
    );
    assert!(dead.iter().any(|d| d.id == record.id), "{dead:?}");
    // A poison entry cannot be revived (it would be buried again at once); it stays dead.
    assert!(matches!(
        h.queue.revive(raw.id).await,
        Ok(Revival::Undecodable)
    ));
    assert_eq!(h.jobs.dead(10).await.unwrap_or_default().len(), 3);
    h.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_jobs_do_not_run_before_their_time() {
    let h = harness().await;
    let later = h
        .jobs
        .enqueue_in(Duration::from_secs(3600), Flaky, Work::default())
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let started = Instant::now();
    let soon = h
        .jobs
        .enqueue_in(Duration::from_millis(300), Flaky, Work::default())
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(h.stream_len().await, 0, "scheduled, not ready");
    run_until(&h, settings(), "the delayed job ran", || async {
        h.runs(soon) >= 1
    })
    .await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!((h.runs(soon), h.runs(later)), (1, 0));
    let stats = h.jobs.stats("default").await.unwrap_or_default();
    assert_eq!(
        (stats.scheduled, stats.ready),
        (1, 0),
        "the later one waits"
    );
    h.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_longer_than_its_lease_is_not_handed_out_twice() {
    let h = harness().await;
    // 1.5 s of work with a 600 ms lease, renewed every 200 ms: one run only.
    let id = h
        .enqueue(Work {
            sleep_ms: 1500,
            ..Work::default()
        })
        .await;
    let done = || async { h.runs(id) >= 1 && h.stream_len().await == 0 };
    let (one, two) = (AtomicBool::new(false), AtomicBool::new(false));
    let (first, second) = tokio::join!(
        Worker::new(h.services.clone(), settings()).run(wait_for(&done, &one)),
        Worker::new(h.services.clone(), settings()).run(wait_for(&done, &two)),
    );
    assert!(
        one.load(Ordering::SeqCst) && two.load(Ordering::SeqCst),
        "the job finished"
    );
    assert_eq!(h.runs(id), 1);
    assert_eq!(first.done + second.done, 1);
    h.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_workers_job_is_handed_out_again_after_its_lease() {
    let h = harness().await;
    let id = h.enqueue(Work::default()).await;
    // A worker that takes the job and dies: fetch, never settle.
    let taken: Vec<Delivery> = h
        .queue
        .fetch(
            "default",
            "dead-worker",
            1,
            Duration::from_millis(10),
            Duration::from_millis(300),
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(taken.len(), 1);
    let stats = h.jobs.stats("default").await.unwrap_or_default();
    assert_eq!((stats.ready, stats.in_flight), (0, 1));
    let report = run_until(
        &h,
        WorkerSettings {
            lease: Duration::from_millis(300),
            ..settings()
        },
        "the abandoned job ran",
        || async { h.runs(id) >= 1 && h.stream_len().await == 0 },
    )
    .await;
    assert_eq!(report.done, 1);
    assert_eq!(h.runs(id), 1);
    // The dead worker's late settlement changes nothing.
    h.queue
        .release(&taken[0])
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(h.stream_len().await, 0);
    h.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_lease_was_taken_over_settles_nothing() {
    let h = harness().await;
    let id = h.enqueue(Work::default()).await;
    let lease = Duration::from_millis(100);
    let stale: Vec<Delivery> = h
        .queue
        .fetch("default", "a", 1, Duration::from_millis(10), lease)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(stale.len(), 1);
    tokio::time::sleep(Duration::from_millis(250)).await;
    let fresh: Vec<Delivery> = h
        .queue
        .fetch("default", "b", 1, Duration::from_millis(10), lease)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(fresh.len(), 1, "b took the expired lease over");
    assert_eq!(fresh[0].token, stale[0].token, "the same stream entry");
    // The first worker's renewal says it lost the job; its settling steps change nothing.
    assert_eq!(h.queue.renew(&stale[0]).await.ok(), Some(false));
    let Ok(record) = &stale[0].record else {
        panic!("decodes")
    };
    let next = JobRecord {
        attempt: 2,
        ..record.clone()
    };
    h.queue
        .retry(&stale[0], &next, 0)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    h.queue
        .complete(&stale[0])
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    h.queue
        .release(&stale[0])
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let stats = h.jobs.stats("default").await.unwrap_or_default();
    assert_eq!(
        (stats.ready, stats.scheduled, stats.in_flight),
        (0, 0, 1),
        "b still holds it"
    );
    assert_eq!(h.stream_len().await, 1);
    assert_eq!(h.queue.renew(&fresh[0]).await.ok(), Some(true));
    h.queue
        .complete(&fresh[0])
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(h.stream_len().await, 0);
    let _ = id;
    h.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_running_jobs_and_gives_back_the_rest() {
    let h = harness().await;
    // One quick job finishes within the grace period; one long job is given back.
    let quick = h
        .enqueue(Work {
            sleep_ms: 50,
            ..Work::default()
        })
        .await;
    let long = h
        .enqueue(Work {
            sleep_ms: 5000,
            ..Work::default()
        })
        .await;
    let report = run_until(&h, settings(), "both jobs started", || async {
        h.runs(quick) >= 1 && h.runs(long) >= 1
    })
    .await;
    assert_eq!((report.done, report.released), (1, 1));
    let stats = h.jobs.stats("default").await.unwrap_or_default();
    assert_eq!(
        (stats.ready, stats.in_flight),
        (1, 0),
        "the long job is ready again"
    );
    assert_eq!(h.stream_len().await, 1, "one entry: the released copy");
    h.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unique_job_collapses_into_the_first_within_its_window() {
    let h = harness().await;
    let work = || Work {
        tag: 7,
        ..Work::default()
    };
    let first = h
        .jobs
        .enqueue_with(Once, work(), EnqueueOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let second = h
        .jobs
        .enqueue_with(Once, work(), EnqueueOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let Enqueued::New(id) = first else {
        panic!("{first:?}")
    };
    assert_eq!(second, Enqueued::Duplicate(id));
    let other = h
        .jobs
        .enqueue_with(Once, work(), EnqueueOptions::default().unique_key("other"))
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(matches!(other, Enqueued::New(new) if new != id));
    assert_eq!(h.stream_len().await, 2);
    // Queue names that would collide with the dead-letter or unique keys are refused.
    for reserved in ["dead", "unique", "dead:index", "cron", "cron:nightly"] {
        assert!(
            matches!(h.queue.stats(reserved).await, Err(QueueError::Protocol(_))),
            "{reserved}"
        );
    }
    h.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_consumer_group_is_created_again_and_misses_no_job() {
    let mut h = harness().await;
    let first = h.enqueue(Work::default()).await;
    run_until(&h, settings(), "the first job ran", || async {
        h.runs(first) == 1 && h.stream_len().await == 0
    })
    .await;
    // As after a Redis restart without persistence: the stream and its group are gone, and
    // the next push creates a stream without a group.
    let _: i64 = redis::cmd("DEL")
        .arg(&h.stream)
        .query_async(&mut h.raw)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let second = h.enqueue(Work::default()).await;
    run_until(
        &h,
        settings(),
        "the job pushed before the group existed ran",
        || async { h.runs(second) == 1 && h.stream_len().await == 0 },
    )
    .await;
    // A group destroyed while a job waits: the group is created from the stream's start.
    let third = h.enqueue(Work::default()).await;
    let _: i64 = redis::cmd("XGROUP")
        .arg("DESTROY")
        .arg(&h.stream)
        .arg("workers")
        .query_async(&mut h.raw)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    run_until(&h, settings(), "the waiting job ran", || async {
        h.runs(third) == 1 && h.stream_len().await == 0
    })
    .await;
    assert_eq!((h.runs(first), h.runs(second), h.runs(third)), (1, 1, 1));
    h.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_consumers_holding_nothing_are_forgotten() {
    let h = harness().await;
    let queue = RedisQueue::connect(&redis_url(), h.stream.trim_end_matches("jobs:default"))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .forget_consumers_after(Duration::from_millis(200));
    let hour = Duration::from_secs(3600);
    h.enqueue(Work::default()).await;
    h.enqueue(Work::default()).await;
    // `holder` takes a job and keeps it; `ghost` takes one and completes it; both go quiet.
    let held = queue
        .fetch("default", "holder", 1, Duration::ZERO, hour)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(held.len(), 1);
    let done = queue
        .fetch("default", "ghost", 1, Duration::ZERO, hour)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(done.len(), 1);
    queue
        .complete(&done[0])
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let consumers = || async {
        let mut raw = h.raw.clone();
        let listed: Vec<Vec<redis::Value>> = redis::cmd("XINFO")
            .arg("CONSUMERS")
            .arg(&h.stream)
            .arg("workers")
            .query_async(&mut raw)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut names: Vec<String> = listed
            .iter()
            .filter_map(|fields| match fields.get(1) {
                Some(redis::Value::BulkString(name)) => Some(String::from_utf8_lossy(name).into()),
                _ => None,
            })
            .collect();
        names.sort();
        names
    };
    assert_eq!(consumers().await, ["ghost", "holder"]);
    // Once they are idle past the expiry, the next fetch forgets the ghost, not the holder.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let _ = queue
            .fetch("default", "reader", 1, Duration::ZERO, hour)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        let names = consumers().await;
        if !names.iter().any(|name| name == "ghost") {
            assert!(names.iter().any(|name| name == "holder"), "{names:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the idle ghost was kept: {names:?}"
        );
    }
    // The holder's job is still its own, and settles.
    queue
        .complete(&held[0])
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(h.stream_len().await, 0);
    h.cleanup().await;
}

/// Every id in `ids` ran exactly once, and nothing ran twice.
fn assert_each_ran_once(effects: &Effects, ids: &[JobId]) {
    let runs = effects.lock();
    let missing = ids.iter().filter(|id| !runs.contains_key(id)).count();
    assert_eq!(missing, 0, "{missing} of {} jobs never ran", ids.len());
    let twice: Vec<_> = runs.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "ran more than once: {twice:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_jobs_through_two_workers_run_once_each() {
    let h = harness().await;
    let mut ids = Vec::with_capacity(1000);
    for chunk in 0..10 {
        let batch = (0..100).map(|i| {
            h.jobs.enqueue(
                Flaky,
                Work {
                    tag: chunk * 100 + i,
                    ..Work::default()
                },
            )
        });
        for enqueued in futures_util::future::join_all(batch).await {
            ids.push(enqueued.unwrap_or_else(|e| panic!("{e:?}")));
        }
    }
    let fast = WorkerSettings {
        concurrency: 8,
        lease: Duration::from_secs(5),
        ..settings()
    };
    let done = || async { h.effects.lock().len() >= 1000 && h.stream_len().await == 0 };
    let (one, two) = (AtomicBool::new(false), AtomicBool::new(false));
    let (first, second) = tokio::join!(
        Worker::new(h.services.clone(), fast.clone()).run(wait_for(&done, &one)),
        Worker::new(h.services.clone(), fast).run(wait_for(&done, &two)),
    );
    assert!(one.load(Ordering::SeqCst), "1000 jobs done within 30 s");
    assert_each_ran_once(&h.effects, &ids);
    assert_eq!(h.effects.lock().len(), 1000);
    assert_eq!(first.done + second.done, 1000);
    assert!(first.done > 0 && second.done > 0, "{first:?} {second:?}");
    h.cleanup().await;
}

/// A redis-server of the test's own on a free port, persisting to an append-only file in
/// `dir` with a sync per write.
pub(crate) struct OwnRedis {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl OwnRedis {
    pub(crate) fn start(port: u16, dir: &Path) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("redis-server is required for this test: {e}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            port,
            dir: dir.to_owned(),
            child: Some(child),
        }
    }

    /// SIGKILL: no shutdown, no final sync.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Removes the server's directory when the test ends, passed or failed.
pub(crate) struct RemoveOnDrop(pub(crate) PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_jobs_survive_a_redis_crash_and_run_exactly_once() {
    let dir = std::env::temp_dir().join(format!("rampart-jobs-aof-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let _remove = RemoveOnDrop(dir.clone());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut redis = OwnRedis::start(port, &dir);
    let h = harness_on(&redis.url()).await;
    let work = |tag| Work {
        sleep_ms: 10,
        tag,
        ..Work::default()
    };
    let mut acknowledged = Vec::new();
    for tag in 0..200 {
        acknowledged.push(h.enqueue(work(tag)).await);
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = Worker::new(
        h.services.clone(),
        WorkerSettings {
            lease: Duration::from_secs(3),
            ..settings()
        },
    );
    let running = tokio::spawn(worker.run(async {
        let _ = stopped.await;
    }));
    let deadline = Instant::now() + Duration::from_secs(30);
    while h.effects.total() < 40 {
        assert!(
            Instant::now() < deadline,
            "the worker did not start working"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Mid-run: no clean shutdown, so whatever Redis had not written is lost.
    redis.kill();
    assert!(
        h.effects.total() < 200,
        "killed while jobs were left to run"
    );
    for tag in 0..5 {
        match h.jobs.enqueue(Flaky, work(1000 + tag)).await {
            Ok(id) => panic!("an enqueue while Redis is down must fail, got {id}"),
            Err(error) => {
                assert_eq!(error.code(), ErrorCode::Unavailable, "{error:?}");
                assert_eq!(error.code().status().as_u16(), 503);
            }
        }
    }
    let dir = redis.dir.clone();
    let restarted = OwnRedis::start(port, &dir);
    // Enqueues succeed again once Redis has loaded its file.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut tag = 2000;
    while acknowledged.len() < 250 {
        assert!(Instant::now() < deadline, "enqueue did not recover");
        match h.jobs.enqueue(Flaky, work(tag)).await {
            Ok(id) => acknowledged.push(id),
            Err(error) => {
                assert_eq!(error.code(), ErrorCode::Unavailable, "{error:?}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        tag += 1;
    }
    // Done when every acknowledged job ran and nothing is left that could run again.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ran = {
            let runs = h.effects.lock();
            acknowledged.iter().all(|id| runs.contains_key(id))
        };
        let idle = h
            .jobs
            .stats("default")
            .await
            .is_ok_and(|s| s.ready + s.scheduled + s.in_flight == 0);
        if ran && idle {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not every acknowledged job ran within 60 s after the restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(());
    let report = running.await.unwrap_or_else(|e| panic!("{e}"));
    assert_each_ran_once(&h.effects, &acknowledged);
    // The harness's raw connection died with the first server: a new one.
    let fresh = harness_on(&restarted.url()).await;
    assert_eq!(fresh.count("XLEN", &h.stream).await, 0);
    assert!(report.done >= 250, "{report:?}");
    drop(restarted);
}

/// Fetches as `consumer` until it is handed a delivery: the job's previous holder (a worker
/// that took it and died) keeps it until its lease expires. Fails the test after 10 s.
async fn take_over(h: &Harness, consumer: &str, lease: Duration) -> Delivery {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut taken = h
            .queue
            .fetch("default", consumer, 1, Duration::from_millis(50), lease)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        if let Some(delivery) = taken.pop() {
            return delivery;
        }
        assert!(
            Instant::now() < deadline,
            "{consumer} was never handed the job"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_workers_keep_dying_is_buried_after_max_deliveries() {
    let h = harness().await;
    let lease = Duration::from_millis(200);
    let limited = WorkerSettings {
        max_deliveries: 3,
        lease,
        ..settings()
    };
    // Lost twice (taken by workers that die: never settled), the third delivery is within the
    // limit: it runs.
    let survivor = h.enqueue(Work::default()).await;
    for (delivered, consumer) in [(1, "dead-1"), (2, "dead-2")] {
        let taken = take_over(&h, consumer, lease).await;
        assert_eq!(taken.deliveries, delivered, "{consumer}");
        assert_eq!(taken.record.as_ref().map(|r| r.id).ok(), Some(survivor));
    }
    let report = run_until(&h, limited.clone(), "the survivor ran", || async {
        h.runs(survivor) >= 1 && h.stream_len().await == 0
    })
    .await;
    assert_eq!((report.done, report.dead), (1, 0));
    // Lost three times: the fourth delivery is past the limit, buried without running.
    let doomed = h.enqueue(Work::default()).await;
    for (delivered, consumer) in [(1, "dead-1"), (2, "dead-2"), (3, "dead-3")] {
        let taken = take_over(&h, consumer, lease).await;
        assert_eq!(taken.deliveries, delivered, "{consumer}");
    }
    let report = run_until(&h, limited, "the doomed job was buried", || async {
        h.jobs.stats("default").await.is_ok_and(|s| s.dead == 1)
    })
    .await;
    assert_eq!((report.done, report.dead), (0, 1));
    assert_eq!((h.runs(survivor), h.runs(doomed)), (1, 0), "never run");
    let dead = h.jobs.dead(10).await.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].id, dead[0].attempts), (doomed, 1));
    assert!(
        dead[0]
            .error
            .starts_with("its worker stopped during 3 deliveries"),
        "{}",
        dead[0].error
    );
    let record: JobRecord = serde_json::from_str(&dead[0].record).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(record.last_error.as_deref(), Some(dead[0].error.as_str()));
    let stats = h.jobs.stats("default").await.unwrap_or_default();
    assert_eq!((stats.ready, stats.in_flight), (0, 0));
    assert_eq!(h.stream_len().await, 0);
    // Revived, it gets a fresh count (and, with a worker that lives, runs).
    assert_eq!(h.jobs.revive(doomed).await.ok(), Some(Revival::Queued));
    assert_eq!(take_over(&h, "alive", lease).await.deliveries, 1);
    h.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_released_delivery_does_not_count_toward_max_deliveries() {
    let h = harness().await;
    let lease = Duration::from_millis(200);
    h.enqueue(Work::default()).await;
    assert_eq!(take_over(&h, "dead-1", lease).await.deliveries, 1);
    let second = take_over(&h, "stopping", lease).await;
    assert_eq!(second.deliveries, 2);
    // A graceful shutdown gives it back: the lost delivery still counts (carried by the new
    // stream entry), the released one does not.
    h.queue
        .release(&second)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(h.stream_len().await, 1, "one entry: the released copy");
    let third = take_over(&h, "next", lease).await;
    assert_eq!(third.deliveries, 2);
    assert_ne!(third.token, second.token, "a new entry");
    // Lost again, then released again: the count goes on from where it was.
    let fourth = take_over(&h, "stopping-too", lease).await;
    assert_eq!(fourth.deliveries, 3);
    h.queue
        .release(&fourth)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let last = take_over(&h, "last", lease).await;
    assert_eq!(last.deliveries, 3);
    h.queue
        .complete(&last)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(h.stream_len().await, 0);
    h.cleanup().await;
}

/// A dead job of the test's, buried `age` ago.
fn dead_since(age: Duration) -> rampart::jobs::DeadJob {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default();
    rampart::jobs::DeadJob {
        id: JobId::new(),
        job: Some("flaky".to_owned()),
        queue: "default".to_owned(),
        record: "{}".to_owned(),
        attempts: 1,
        error: "failed".to_owned(),
        failed_at_ms: now - age.as_millis() as i64,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dead_letter_queue_keeps_the_newest_within_its_retention() {
    let h = harness().await;
    let day = Duration::from_secs(86_400);
    let month = 30 * day;
    let old: Vec<_> = (0..2).map(|_| dead_since(40 * day)).collect();
    let recent: Vec<_> = (0..4u32).map(|i| dead_since(day * (4 - i))).collect();
    for dead in old.iter().chain(&recent) {
        h.queue
            .bury_unqueued(dead)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
    }
    let dead_keys = || async {
        let prefix = h.stream.trim_end_matches("default");
        (
            h.count("HLEN", &format!("{prefix}dead")).await,
            h.count("ZCARD", &format!("{prefix}dead:index")).await,
        )
    };
    // By age: the two buried 40 days ago go, from the hash and the index.
    assert_eq!(h.queue.prune_dead(month, 100).await.ok(), Some(2));
    let ids =
        |jobs: Vec<rampart::jobs::DeadJob>| jobs.into_iter().map(|j| j.id).collect::<Vec<_>>();
    let newest_first: Vec<JobId> = recent.iter().rev().map(|job| job.id).collect();
    assert_eq!(ids(h.jobs.dead(10).await.unwrap_or_default()), newest_first);
    assert_eq!(dead_keys().await, (4, 4));
    // By count: the oldest beyond the newest three go.
    assert_eq!(h.queue.prune_dead(month, 3).await.ok(), Some(1));
    assert_eq!(
        ids(h.jobs.dead(10).await.unwrap_or_default()),
        newest_first[..3]
    );
    assert_eq!(
        h.queue.prune_dead(month, 3).await.ok(),
        Some(0),
        "nothing more"
    );
    // More than one script call's batch (1,000): every call deletes its share.
    let many: Vec<_> = (0..2500).map(|_| dead_since(40 * day)).collect();
    for chunk in many.chunks(250) {
        for buried in
            futures_util::future::join_all(chunk.iter().map(|d| h.queue.bury_unqueued(d))).await
        {
            buried.unwrap_or_else(|e| panic!("{e:?}"));
        }
    }
    assert_eq!(h.queue.prune_dead(month, 10_000).await.ok(), Some(2500));
    assert_eq!(dead_keys().await, (3, 3));
    // The worker applies the retention it is given, at start.
    run_until(
        &h,
        WorkerSettings {
            dead_max: 1,
            ..settings()
        },
        "the worker pruned the dead-letter queue",
        || async { h.jobs.stats("default").await.is_ok_and(|s| s.dead == 1) },
    )
    .await;
    assert_eq!(
        ids(h.jobs.dead(10).await.unwrap_or_default()),
        newest_first[..1]
    );
    assert_eq!(dead_keys().await, (1, 1));
    h.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_checks_the_redis_version_when_it_reaches_the_server() {
    // This machine's Redis (7.0 or later) passes, and the version read is the server's.
    let h = harness().await;
    let mut raw = h.raw.clone();
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(&mut raw)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let stated = info
        .lines()
        .find_map(|line| line.trim().strip_prefix("redis_version:"))
        .unwrap_or_else(|| panic!("no redis_version in {info}"))
        .to_owned();
    let version = h
        .queue
        .server_version()
        .unwrap_or_else(|| panic!("checked at connect"));
    assert!(version >= (7, 0, 0), "{version:?}");
    assert_eq!(format!("{}.{}.{}", version.0, version.1, version.2), stated);
    h.cleanup().await;
    // A Redis unreachable at connect is checked on first use, once it answers.
    let dir = std::env::temp_dir().join(format!("rampart-jobs-version-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let _remove = RemoveOnDrop(dir.clone());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"));
    let queue = RedisQueue::connect(&format!("redis://127.0.0.1:{port}"), "version-test:")
        .await
        .unwrap_or_else(|e| panic!("an unreachable Redis is not a start-up error: {e}"));
    assert_eq!(queue.server_version(), None);
    assert!(matches!(
        queue.stats("default").await,
        Err(QueueError::Unavailable(_))
    ));
    let _redis = OwnRedis::start(port, &dir);
    let deadline = Instant::now() + Duration::from_secs(30);
    while queue.stats("default").await.is_err() {
        assert!(
            Instant::now() < deadline,
            "the queue never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(queue.server_version().is_some_and(|v| v >= (7, 0, 0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_workers_blocking_connections_are_closed() {
    // A redis-server of the test's own, so that its client count is this test's alone.
    let dir = std::env::temp_dir().join(format!("rampart-jobs-clients-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let _remove = RemoveOnDrop(dir.clone());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"));
    let redis = OwnRedis::start(port, &dir);
    let h = harness_on(&redis.url()).await;
    let clients = || async {
        let mut raw = h.raw.clone();
        let info: String = redis::cmd("INFO")
            .arg("clients")
            .query_async(&mut raw)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        info.lines()
            .find_map(|line| line.trim().strip_prefix("connected_clients:"))
            .and_then(|count| count.parse::<u32>().ok())
            .unwrap_or_else(|| panic!("no connected_clients in {info}"))
    };
    // The harness's own connection and the queue's shared one.
    let before = clients().await;
    for round in 0..3 {
        let id = h
            .enqueue(Work {
                tag: round,
                ..Work::default()
            })
            .await;
        // While it runs, the worker reads through a blocking connection of its own.
        run_until(
            &h,
            settings(),
            "the job ran with a blocking read open",
            || async { h.runs(id) >= 1 && clients().await > before },
        )
        .await;
        // Stopped, it keeps none: the count is back where it was (each round, so the
        // connections of workers started again and again do not pile up).
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let now = clients().await;
            if now == before {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: {now} clients after the worker stopped, {before} before"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    drop(redis);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_lost_twice_are_run_one_at_a_time() {
    let h = harness().await;
    let lease = Duration::from_millis(200);
    let work = |tag| Work {
        sleep_ms: 300,
        tag,
        ..Work::default()
    };
    let (first, second) = (h.enqueue(work(1)).await, h.enqueue(work(2)).await);
    // Both lost together twice, as beside a job that kills its worker.
    let taken = h
        .queue
        .fetch("default", "dead-1", 2, Duration::from_millis(50), lease)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(taken.len(), 2);
    let again = [
        take_over(&h, "dead-2", lease).await,
        take_over(&h, "dead-2", lease).await,
    ];
    assert!(again.iter().all(|d| d.deliveries == 2), "{again:?}");
    // A worker with room for four runs them one after the other, never side by side: if one
    // of them kills its worker, the other is not lost with it a third time.
    let report = run_until(
        &h,
        WorkerSettings {
            lease,
            ..settings()
        },
        "both ran",
        || async { h.runs(first) >= 1 && h.runs(second) >= 1 && h.stream_len().await == 0 },
    )
    .await;
    assert_eq!(report.done, 2);
    assert_eq!((h.runs(first), h.runs(second)), (1, 1));
    assert_eq!(
        h.effects.peak.load(Ordering::SeqCst),
        1,
        "never both at once"
    );
    h.cleanup().await;
}
