//! The worker against the in-process queue, with jobs written by hand (what `#[job]`
//! generates): success, retries then the dead-letter queue, poison payloads, delays, timeouts,
//! panics, leases, shutdown, unique keys, captured scopes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::*;
use crate::dependency::Dependencies;
use crate::resource::{CursorKey, Scope};

/// Counts runs, and how many ran at once at most; fails the first `fail_first` runs of a
/// payload.
#[derive(Default)]
struct Effects {
    runs: AtomicU32,
    running: AtomicU32,
    peak: AtomicU32,
}

#[derive(Debug, Serialize, Deserialize)]
struct Work {
    fail_first: u32,
    #[serde(default)]
    sleep_ms: u64,
    #[serde(default)]
    panic: bool,
}

static FLAKY: JobSpec = JobSpec {
    retries: 2,
    backoff: Backoff::Fixed {
        delay: Duration::from_millis(20),
    },
    timeout: Duration::from_millis(1500),
    ..JobSpec::new("flaky")
};

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
            let run = effects.runs.fetch_add(1, Ordering::SeqCst) + 1;
            if input.panic {
                panic!("boom");
            }
            let now = effects.running.fetch_add(1, Ordering::SeqCst) + 1;
            effects.peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(input.sleep_ms)).await;
            effects.running.fetch_sub(1, Ordering::SeqCst);
            if ctx.attempt() <= input.fail_first {
                return Err(JobError::retry(format!(
                    "failing attempt {} (run {run})",
                    ctx.attempt()
                )));
            }
            Ok(())
        })
    }
}

static SCOPED: JobSpec = JobSpec {
    retries: 0,
    backoff: Backoff::None,
    ..JobSpec::new("scoped")
};

#[derive(Clone, Copy, Debug)]
struct Scoped;

impl Job for Scoped {
    type Input = Uuid;
    fn spec(self) -> &'static JobSpec {
        &SCOPED
    }
    fn run(self, ctx: JobCtx, expected: Uuid) -> BoxFuture<'static, JobResult> {
        Box::pin(async move {
            let scope = ctx.scope()?;
            if scope.owner() != expected {
                return Err(JobError::permanent("wrong owner"));
            }
            ctx.dep::<Effects>()?.runs.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
    }
}

struct Harness {
    jobs: Jobs,
    effects: Arc<Effects>,
    services: JobServices,
}

fn harness() -> Harness {
    let key = CursorKey::derive(b"jobs test key");
    let jobs = Jobs::in_process(JobSet::new().job(Flaky).job(Scoped), key.clone());
    let effects = Arc::new(Effects::default());
    let services = JobServices::new(
        None,
        Dependencies::new().with_shared(effects.clone()),
        key,
        jobs.clone(),
    );
    Harness {
        jobs,
        effects,
        services,
    }
}

fn settings() -> WorkerSettings {
    WorkerSettings {
        concurrency: 4,
        lease: Duration::from_millis(300),
        shutdown_grace: Duration::from_millis(400),
        poll_wait: Duration::from_millis(20),
        ..WorkerSettings::default()
    }
}

/// Runs a worker until `done` holds (checked every 10 ms, at most 5 s), then stops it.
async fn run_until(
    h: &Harness,
    settings: WorkerSettings,
    done: impl Fn() -> bool + Send + Sync,
) -> WorkerReport {
    let worker = Worker::new(h.services.clone(), settings);
    let mut waited = 0;
    worker
        .run(async {
            while !done() && waited < 500 {
                tokio::time::sleep(Duration::from_millis(10)).await;
                waited += 1;
            }
        })
        .await
}

#[tokio::test]
async fn a_job_runs_once_and_leaves_nothing_behind() {
    let h = harness();
    let id = h
        .jobs
        .enqueue(
            Flaky,
            Work {
                fail_first: 0,
                sleep_ms: 0,
                panic: false,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let effects = h.effects.clone();
    let report = run_until(&h, settings(), || effects.runs.load(Ordering::SeqCst) >= 1).await;
    assert_eq!(report.done, 1);
    assert_eq!(h.effects.runs.load(Ordering::SeqCst), 1);
    let stats = h
        .jobs
        .stats("default")
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        (stats.ready, stats.scheduled, stats.in_flight, stats.dead),
        (0, 0, 0, 0)
    );
    assert!(
        h.jobs
            .dead(10)
            .await
            .unwrap_or_default()
            .iter()
            .all(|d| d.id != id)
    );
}

#[tokio::test]
async fn failures_are_retried_then_buried_with_the_last_error() {
    let h = harness();
    // Succeeds on its third attempt (two retries allowed).
    h.jobs
        .enqueue(
            Flaky,
            Work {
                fail_first: 2,
                sleep_ms: 0,
                panic: false,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    // Never succeeds: three attempts, then the dead-letter queue.
    let doomed = h
        .jobs
        .enqueue(
            Flaky,
            Work {
                fail_first: 9,
                sleep_ms: 0,
                panic: false,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let effects = h.effects.clone();
    let report = run_until(&h, settings(), || effects.runs.load(Ordering::SeqCst) >= 6).await;
    assert_eq!(h.effects.runs.load(Ordering::SeqCst), 6, "3 attempts each");
    assert_eq!((report.done, report.retried, report.dead), (1, 4, 1));
    let dead = h.jobs.dead(10).await.unwrap_or_default();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].id, doomed);
    assert_eq!(dead[0].attempts, 3);
    assert!(
        dead[0].error.contains("failing attempt 3"),
        "{}",
        dead[0].error
    );
    // Revived, it runs again from attempt 1 (and fails three more times).
    assert_eq!(h.jobs.revive(doomed).await.ok(), Some(Revival::Queued));
    assert!(
        h.jobs.revive(doomed).await.ok() == Some(Revival::NotFound),
        "no longer dead"
    );
    let effects = h.effects.clone();
    run_until(&h, settings(), || effects.runs.load(Ordering::SeqCst) >= 9).await;
    assert_eq!(h.effects.runs.load(Ordering::SeqCst), 9);
    assert!(h.jobs.discard(doomed).await.unwrap_or(false));
    assert!(h.jobs.dead(10).await.unwrap_or_default().is_empty());
}

#[tokio::test]
async fn a_payload_that_does_not_decode_goes_straight_to_the_dead_letter_queue() {
    let h = harness();
    let record = JobRecord {
        id: JobId::new(),
        job: "flaky".to_owned(),
        queue: "default".to_owned(),
        payload: "{\"fail_first\":\"not a number\"}".to_owned(),
        attempt: 1,
        enqueued_at_ms: queue::now_ms(),
        request_id: None,
        traceparent: None,
        scope: None,
        last_error: None,
    };
    h.jobs
        .queue()
        .push(&record, None, None)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let jobs = h.jobs.clone();
    let report = run_until(&h, settings(), || {
        futures_util::FutureExt::now_or_never(jobs.stats("default"))
            .and_then(Result::ok)
            .is_some_and(|s| s.dead == 1)
    })
    .await;
    assert_eq!(report.dead, 1);
    assert_eq!(h.effects.runs.load(Ordering::SeqCst), 0, "never ran");
    let dead = h.jobs.dead(1).await.unwrap_or_default();
    assert!(
        dead[0].error.contains("does not decode"),
        "{}",
        dead[0].error
    );
    assert_eq!(dead[0].id, record.id);
}

#[tokio::test]
async fn timeouts_and_panics_are_failed_attempts() {
    let h = harness();
    h.jobs
        .enqueue(
            Flaky,
            Work {
                fail_first: 0,
                sleep_ms: 10_000,
                panic: false,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    h.jobs
        .enqueue(
            Flaky,
            Work {
                fail_first: 0,
                sleep_ms: 0,
                panic: true,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let jobs = h.jobs.clone();
    let report = run_until(&h, settings(), || {
        futures_util::FutureExt::now_or_never(jobs.stats("default"))
            .and_then(Result::ok)
            .is_some_and(|s| s.dead == 2)
    })
    .await;
    assert_eq!(report.dead, 2);
    let errors: Vec<String> = h
        .jobs
        .dead(5)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|d| d.error)
        .collect();
    assert!(errors.iter().any(|e| e.contains("timed out")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("panicked")), "{errors:?}");
}

#[tokio::test]
async fn a_job_longer_than_its_lease_is_not_handed_out_twice() {
    let h = harness();
    // 900 ms of work with a 300 ms lease, renewed every 100 ms: one run only.
    h.jobs
        .enqueue(
            Flaky,
            Work {
                fail_first: 0,
                sleep_ms: 900,
                panic: false,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    // Two workers for 1.2 s (the grace covers the rest): the one holding the job renews its
    // lease throughout.
    let one = Worker::new(h.services.clone(), settings());
    let two = Worker::new(h.services.clone(), settings());
    let (report, other) = tokio::join!(
        one.run(tokio::time::sleep(Duration::from_millis(1200))),
        two.run(tokio::time::sleep(Duration::from_millis(1200))),
    );
    assert_eq!(h.effects.runs.load(Ordering::SeqCst), 1);
    assert_eq!(report.done + other.done, 1);
}

#[tokio::test]
async fn a_dead_workers_job_is_handed_out_again_after_its_lease() {
    let h = harness();
    h.jobs
        .enqueue(
            Flaky,
            Work {
                fail_first: 0,
                sleep_ms: 0,
                panic: false,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    // A worker that takes the job and dies: fetch, never settle.
    let taken = h
        .jobs
        .queue()
        .fetch(
            "default",
            "dead-worker",
            1,
            Duration::from_millis(10),
            Duration::from_millis(100),
        )
        .await
        .unwrap_or_default();
    assert_eq!(taken.len(), 1);
    let effects = h.effects.clone();
    let report = run_until(&h, settings(), || effects.runs.load(Ordering::SeqCst) >= 1).await;
    assert_eq!(report.done, 1);
    assert_eq!(h.effects.runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn shutdown_finishes_running_jobs_and_gives_back_the_rest() {
    let h = harness();
    // One quick job finishes within the grace period; one long job is given back.
    h.jobs
        .enqueue(
            Flaky,
            Work {
                fail_first: 0,
                sleep_ms: 50,
                panic: false,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    h.jobs
        .enqueue(
            Flaky,
            Work {
                fail_first: 0,
                sleep_ms: 3000,
                panic: false,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let effects = h.effects.clone();
    let report = run_until(&h, settings(), || effects.runs.load(Ordering::SeqCst) >= 2).await;
    assert_eq!((report.done, report.released), (1, 1));
    let stats = h.jobs.stats("default").await.unwrap_or_default();
    assert_eq!(
        (stats.ready, stats.in_flight),
        (1, 0),
        "the long job is ready again"
    );
}

#[tokio::test]
async fn delayed_jobs_do_not_run_before_their_time() {
    let h = harness();
    h.jobs
        .enqueue_in(
            Duration::from_millis(300),
            Flaky,
            Work {
                fail_first: 0,
                sleep_ms: 0,
                panic: false,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let started = std::time::Instant::now();
    let effects = h.effects.clone();
    run_until(&h, settings(), || effects.runs.load(Ordering::SeqCst) >= 1).await;
    assert_eq!(h.effects.runs.load(Ordering::SeqCst), 1);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_captured_scope_comes_back_and_a_forged_one_does_not() {
    let h = harness();
    let owner = Uuid::now_v7();
    h.jobs
        .enqueue_for(&Scope::owned_by(owner), Scoped, owner)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    // A payload whose scope names another owner under a signature it did not earn.
    let forged = h
        .jobs
        .enqueue_for(&Scope::owned_by(owner), Scoped, owner)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let mut taken = h
        .jobs
        .queue()
        .fetch(
            "default",
            "forger",
            2,
            Duration::from_millis(10),
            Duration::from_secs(60),
        )
        .await
        .unwrap_or_default();
    assert_eq!(taken.len(), 2);
    for delivery in &mut taken {
        let Ok(record) = &delivery.record else {
            panic!("decodes")
        };
        let mut record = record.clone();
        if record.id == forged {
            let text = serde_json::to_string(&record.scope).unwrap_or_default();
            let other = text.replace(&owner.to_string(), &Uuid::now_v7().to_string());
            record.scope = serde_json::from_str(&other).ok();
        }
        h.jobs
            .queue()
            .complete(delivery)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        h.jobs
            .queue()
            .push(&record, None, None)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
    }
    let jobs = h.jobs.clone();
    let report = run_until(&h, settings(), || {
        futures_util::FutureExt::now_or_never(jobs.stats("default"))
            .and_then(Result::ok)
            .is_some_and(|s| s.dead == 1 && s.ready == 0 && s.in_flight == 0)
    })
    .await;
    assert_eq!((report.done, report.dead), (1, 1));
    assert_eq!(h.effects.runs.load(Ordering::SeqCst), 1);
    let dead = h.jobs.dead(1).await.unwrap_or_default();
    assert_eq!(dead[0].id, forged);
    assert!(dead[0].error.contains("not signed"), "{}", dead[0].error);
}

#[tokio::test]
async fn an_unregistered_job_is_refused_at_enqueue() {
    let key = CursorKey::derive(b"k");
    let jobs = Jobs::in_process(JobSet::new().job(Scoped), key);
    let error = jobs
        .enqueue(
            Flaky,
            Work {
                fail_first: 0,
                sleep_ms: 0,
                panic: false,
            },
        )
        .await
        .err()
        .map(|e| e.code());
    assert_eq!(error, Some(crate::error::ErrorCode::Internal));
}

#[tokio::test]
async fn a_worker_whose_lease_was_taken_over_settles_nothing() {
    let h = harness();
    let id = h
        .jobs
        .enqueue(
            Flaky,
            Work {
                fail_first: 0,
                sleep_ms: 0,
                panic: false,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let queue = h.jobs.queue();
    let lease = Duration::from_millis(50);
    let stale = queue
        .fetch("default", "a", 1, Duration::from_millis(10), lease)
        .await
        .unwrap_or_default();
    assert_eq!(stale.len(), 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let fresh = queue
        .fetch(
            "default",
            "b",
            1,
            Duration::from_millis(10),
            Duration::from_secs(60),
        )
        .await
        .unwrap_or_default();
    assert_eq!(fresh.len(), 1, "b took the expired lease over");
    // The first worker's renewal says it lost the job; its settling steps change nothing.
    assert_eq!(queue.renew(&stale[0]).await.ok(), Some(false));
    let Ok(record) = &stale[0].record else {
        panic!("decodes")
    };
    let next = JobRecord {
        attempt: 2,
        ..record.clone()
    };
    queue
        .retry(&stale[0], &next, 0)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    queue
        .complete(&stale[0])
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    queue
        .release(&stale[0])
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let stats = h.jobs.stats("default").await.unwrap_or_default();
    assert_eq!(
        (stats.ready, stats.scheduled, stats.in_flight),
        (0, 0, 1),
        "b still holds it"
    );
    assert_eq!(queue.renew(&fresh[0]).await.ok(), Some(true));
    queue
        .complete(&fresh[0])
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let stats = h.jobs.stats("default").await.unwrap_or_default();
    assert_eq!((stats.ready, stats.in_flight), (0, 0));
    let _ = id;
}

#[tokio::test]
async fn a_capture_copied_into_another_jobs_record_does_not_verify() {
    let h = harness();
    let owner = Uuid::now_v7();
    let scope = Scope::owned_by(owner);
    h.jobs
        .enqueue_for(&scope, Scoped, owner)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let copied = h
        .jobs
        .enqueue_for(&scope, Scoped, owner)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let taken = h
        .jobs
        .queue()
        .fetch(
            "default",
            "copier",
            2,
            Duration::from_millis(10),
            Duration::from_secs(60),
        )
        .await
        .unwrap_or_default();
    assert_eq!(taken.len(), 2);
    let records: Vec<JobRecord> = taken
        .iter()
        .filter_map(|delivery| delivery.record.clone().ok())
        .collect();
    let genuine = records.iter().find(|r| r.id != copied).cloned();
    let genuine = genuine.unwrap_or_else(|| panic!("the other job"));
    for (delivery, record) in taken.iter().zip(records) {
        let mut record = record;
        if record.id == copied {
            // A valid capture of the same owner, signed for the other job.
            record.scope = genuine.scope.clone();
        }
        h.jobs
            .queue()
            .complete(delivery)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        h.jobs
            .queue()
            .push(&record, None, None)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
    }
    let jobs = h.jobs.clone();
    let report = run_until(&h, settings(), || {
        futures_util::FutureExt::now_or_never(jobs.stats("default"))
            .and_then(Result::ok)
            .is_some_and(|s| s.dead == 1 && s.ready == 0 && s.in_flight == 0)
    })
    .await;
    assert_eq!((report.done, report.dead), (1, 1));
    let dead = h.jobs.dead(1).await.unwrap_or_default();
    assert_eq!(dead[0].id, copied);
}

/// A missing job handle is explained as a missing `App::with_jobs`, not a missing
/// `App::dep`: `dependency` names the type without importing it.
#[test]
fn a_missing_job_handle_points_at_with_jobs() {
    assert_eq!(std::any::type_name::<Jobs>(), crate::dependency::JOB_HANDLE);
    assert!(
        crate::dependency::how_to_register(std::any::type_name::<Jobs>())
            .contains("App::with_jobs")
    );
    assert!(crate::dependency::how_to_register("app::Mailer").contains("App::dep"));
}

/// Fetches as `consumer` until it is handed a delivery: the job's previous holder (a worker
/// that took it and died) keeps it until its lease expires.
async fn take_over(queue: &dyn Queue, consumer: &str, lease: Duration) -> Delivery {
    for _ in 0..100 {
        let mut taken = queue
            .fetch("default", consumer, 1, Duration::from_millis(100), lease)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        if let Some(delivery) = taken.pop() {
            return delivery;
        }
    }
    panic!("{consumer} was never handed the job");
}

fn quick() -> Work {
    Work {
        fail_first: 0,
        sleep_ms: 0,
        panic: false,
    }
}

#[tokio::test]
async fn a_job_whose_workers_keep_dying_is_buried_after_max_deliveries() {
    let h = harness();
    let queue = h.jobs.queue().as_ref();
    let lease = Duration::from_millis(50);
    let limited = WorkerSettings {
        max_deliveries: 3,
        lease,
        ..settings()
    };
    // Lost twice, the third delivery is within the limit: it runs.
    let survivor = h
        .jobs
        .enqueue(Flaky, quick())
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    for (delivered, consumer) in [(1, "dead-1"), (2, "dead-2")] {
        let taken = take_over(queue, consumer, lease).await;
        assert_eq!(taken.deliveries, delivered, "{consumer}");
    }
    let effects = h.effects.clone();
    let report = run_until(&h, limited.clone(), || {
        effects.runs.load(Ordering::SeqCst) >= 1
    })
    .await;
    assert_eq!((report.done, report.dead), (1, 0));
    assert_eq!(h.effects.runs.load(Ordering::SeqCst), 1);
    // Lost three times: the fourth delivery is past the limit, buried without running.
    let doomed = h
        .jobs
        .enqueue(Flaky, quick())
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    for (delivered, consumer) in [(1, "dead-1"), (2, "dead-2"), (3, "dead-3")] {
        let taken = take_over(queue, consumer, lease).await;
        assert_eq!(taken.deliveries, delivered, "{consumer}");
    }
    let jobs = h.jobs.clone();
    let report = run_until(&h, limited, || {
        futures_util::FutureExt::now_or_never(jobs.stats("default"))
            .and_then(Result::ok)
            .is_some_and(|stats| stats.dead == 1)
    })
    .await;
    assert_eq!((report.done, report.dead), (0, 1));
    assert_eq!(
        h.effects.runs.load(Ordering::SeqCst),
        1,
        "the doomed job never ran"
    );
    let dead = h.jobs.dead(10).await.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].id, doomed);
    assert_eq!(dead[0].attempts, 1);
    assert!(
        dead[0]
            .error
            .starts_with("its worker stopped during 3 deliveries"),
        "{}",
        dead[0].error
    );
    let stats = h.jobs.stats("default").await.unwrap_or_default();
    assert_eq!((stats.ready, stats.in_flight), (0, 0));
    let _ = survivor;
}

#[tokio::test]
async fn a_released_delivery_does_not_count_toward_max_deliveries() {
    let h = harness();
    let queue = h.jobs.queue().as_ref();
    let lease = Duration::from_millis(50);
    h.jobs
        .enqueue(Flaky, quick())
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(take_over(queue, "dead-1", lease).await.deliveries, 1);
    let second = take_over(queue, "stopping", lease).await;
    assert_eq!(second.deliveries, 2);
    // A graceful shutdown gives it back: the lost delivery still counts, the released one not.
    queue
        .release(&second)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let third = take_over(queue, "next", Duration::from_secs(60)).await;
    assert_eq!(third.deliveries, 2);
    queue
        .complete(&third)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
}

/// A dead job buried `age` ago.
fn dead_since(age: Duration) -> DeadJob {
    let mut dead = DeadJob::now(
        JobId::new(),
        Some("flaky".to_owned()),
        "default",
        "{}".to_owned(),
        1,
        "failed",
    );
    dead.failed_at_ms -= queue::millis(age);
    dead
}

#[tokio::test]
async fn the_dead_letter_queue_keeps_the_newest_within_its_retention() {
    let h = harness();
    let queue = h.jobs.queue();
    let day = Duration::from_secs(86_400);
    let old: Vec<DeadJob> = (0..2).map(|_| dead_since(40 * day)).collect();
    let recent: Vec<DeadJob> = (0..4u32).map(|i| dead_since(day * (4 - i))).collect();
    for dead in old.iter().chain(&recent) {
        queue
            .bury_unqueued(dead)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
    }
    let month = 30 * day;
    // By age: the two buried 40 days ago go.
    assert_eq!(queue.prune_dead(month, 100).await.ok(), Some(2));
    let ids = |jobs: Vec<DeadJob>| jobs.into_iter().map(|job| job.id).collect::<Vec<_>>();
    let newest_first: Vec<JobId> = recent.iter().rev().map(|job| job.id).collect();
    assert_eq!(ids(h.jobs.dead(10).await.unwrap_or_default()), newest_first);
    // By count: the oldest beyond the newest three go.
    assert_eq!(queue.prune_dead(month, 3).await.ok(), Some(1));
    assert_eq!(
        ids(h.jobs.dead(10).await.unwrap_or_default()),
        newest_first[..3]
    );
    assert_eq!(
        queue.prune_dead(month, 3).await.ok(),
        Some(0),
        "nothing more"
    );
    // The worker applies the retention it is given, at start.
    let jobs = h.jobs.clone();
    run_until(
        &h,
        WorkerSettings {
            dead_max: 1,
            ..settings()
        },
        || {
            futures_util::FutureExt::now_or_never(jobs.stats("default"))
                .and_then(Result::ok)
                .is_some_and(|stats| stats.dead == 1)
        },
    )
    .await;
    assert_eq!(
        ids(h.jobs.dead(10).await.unwrap_or_default()),
        newest_first[..1]
    );
}

#[tokio::test]
async fn deliveries_lost_twice_are_run_one_at_a_time() {
    let h = harness();
    let queue = h.jobs.queue().as_ref();
    let lease = Duration::from_millis(50);
    let slow = || Work {
        fail_first: 0,
        sleep_ms: 200,
        panic: false,
    };
    for _ in 0..2 {
        h.jobs
            .enqueue(Flaky, slow())
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
    }
    // Both lost together twice, as beside a job that kills its worker.
    let taken = queue
        .fetch("default", "dead-1", 2, Duration::from_millis(10), lease)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(taken.len(), 2);
    let again = [
        take_over(queue, "dead-2", lease).await,
        take_over(queue, "dead-2", lease).await,
    ];
    assert!(again.iter().all(|d| d.deliveries == 2), "{again:?}");
    let effects = h.effects.clone();
    let report = run_until(
        &h,
        WorkerSettings {
            lease,
            ..settings()
        },
        || effects.runs.load(Ordering::SeqCst) >= 2 && effects.running.load(Ordering::SeqCst) == 0,
    )
    .await;
    assert_eq!(report.done, 2);
    assert_eq!(
        h.effects.peak.load(Ordering::SeqCst),
        1,
        "never both at once"
    );
}
