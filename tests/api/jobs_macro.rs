//! `#[job]` end to end: two jobs declared with the macro, registered in a `JobSet`, enqueued
//! through the in-process queue and run by a real `Worker`; their effects happen, and `spec()`
//! carries what the attribute declared (and `JobSpec::new`'s defaults for the rest).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rampart::jobs::{
    Backoff, EnqueueOptions, Enqueued, JobServices, JobSpec, Worker, WorkerReport, WorkerSettings,
};
use rampart::resource::CursorKey;
use rampart::{Dep, Dependencies, Job, JobCtx, JobError, JobResult, JobSet, Jobs, job};
use serde::{Deserialize, Serialize};

/// What the jobs do, observable by the test.
#[derive(Default)]
struct Effects {
    welcomed: Mutex<Vec<String>>,
    tally_runs: AtomicU32,
    tallied: AtomicU32,
}

#[derive(Debug, Serialize, Deserialize)]
struct Welcome {
    email: String,
}

/// Sends the welcome mail.
///
/// Once per sign-up (a repeat within ten minutes collapses into the first).
#[job(
    queue = "mail",
    retries = 8,
    backoff = "exponential",
    backoff_base = "2s",
    timeout = "30s",
    unique = "10m"
)]
async fn send_welcome(ctx: JobCtx, input: Welcome, effects: Dep<Effects>) -> JobResult {
    let _ = ctx;
    effects
        .welcomed
        .lock()
        .map_err(|_| JobError::retry("poisoned"))?
        .push(input.email);
    Ok(())
}

/// Adds to the tally, failing its first attempt.
#[job(
    name = "stats.tally",
    retries = 2,
    backoff = "fixed",
    backoff_base = "10ms"
)]
async fn tally(ctx: JobCtx, amount: u32, effects: Dep<Effects>) -> JobResult {
    effects.tally_runs.fetch_add(1, Ordering::SeqCst);
    if ctx.attempt() == 1 {
        return Err(JobError::retry("first attempt fails"));
    }
    effects.tallied.fetch_add(amount, Ordering::SeqCst);
    Ok(())
}

struct Harness {
    jobs: Jobs,
    effects: Arc<Effects>,
    services: JobServices,
}

fn harness() -> Harness {
    let key = CursorKey::derive(b"jobs macro test key");
    let jobs = Jobs::in_process(JobSet::new().job(send_welcome).job(tally), key.clone());
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

/// Runs a worker until `done` holds (checked every 10 ms, at most 5 s), then stops it.
async fn run_until(h: &Harness, done: impl Fn() -> bool + Send + Sync) -> WorkerReport {
    let settings = WorkerSettings {
        poll_wait: Duration::from_millis(20),
        shutdown_grace: Duration::from_millis(500),
        ..WorkerSettings::default()
    };
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
async fn declared_jobs_are_enqueued_and_run_by_a_worker() {
    let h = harness();
    let first = h
        .jobs
        .enqueue_with(
            send_welcome,
            Welcome {
                email: "ada@example.com".to_owned(),
            },
            EnqueueOptions::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    // `unique = "10m"`: the same payload again collapses into the first.
    let again = h
        .jobs
        .enqueue_with(
            send_welcome,
            Welcome {
                email: "ada@example.com".to_owned(),
            },
            EnqueueOptions::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(matches!(first, Enqueued::New(_)), "{first:?}");
    assert!(
        matches!(again, Enqueued::Duplicate(id) if id == first.id()),
        "{again:?}"
    );
    h.jobs
        .enqueue(tally, 5)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));

    let effects = h.effects.clone();
    let report = run_until(&h, || {
        effects.tallied.load(Ordering::SeqCst) == 5
            && effects.welcomed.lock().is_ok_and(|w| !w.is_empty())
    })
    .await;

    assert_eq!(
        *h.effects
            .welcomed
            .lock()
            .unwrap_or_else(|e| panic!("{e:?}")),
        vec!["ada@example.com".to_owned()]
    );
    assert_eq!(h.effects.tallied.load(Ordering::SeqCst), 5);
    assert_eq!(
        h.effects.tally_runs.load(Ordering::SeqCst),
        2,
        "failed once, then retried"
    );
    assert_eq!((report.done, report.retried, report.dead), (2, 1, 0));
    // The worker served both declared queues.
    assert_eq!(h.jobs.set().queues(), vec!["default", "mail"]);
}

#[test]
fn spec_carries_the_declared_values() {
    let spec = send_welcome.spec();
    assert_eq!(spec.name, "send_welcome");
    assert_eq!(spec.queue, "mail");
    assert_eq!(spec.retries, 8);
    assert_eq!(
        spec.backoff,
        Backoff::Exponential {
            base: Duration::from_secs(2)
        }
    );
    assert_eq!(spec.timeout, Duration::from_secs(30));
    assert_eq!(spec.unique, Some(Duration::from_secs(600)));
    assert_eq!(spec.description, "Sends the welcome mail.");

    let spec = tally.spec();
    assert_eq!(spec.name, "stats.tally");
    assert_eq!(spec.retries, 2);
    assert_eq!(
        spec.backoff,
        Backoff::Fixed {
            delay: Duration::from_millis(10)
        }
    );
    assert_eq!(
        spec.description,
        "Adds to the tally, failing its first attempt."
    );
    // A `Dep<T>` argument is listed for the start-up check.
    let keys: Vec<_> = spec.deps.iter().filter_map(|probe| probe()).collect();
    assert_eq!(keys.len(), 1);
    assert!(keys[0].type_name().ends_with("Effects"), "{keys:?}");
    // Keys not given are `JobSpec::new`'s defaults.
    let defaults = JobSpec::new("stats.tally");
    assert_eq!(spec.queue, defaults.queue);
    assert_eq!(spec.timeout, defaults.timeout);
    assert_eq!(spec.unique, defaults.unique);
}

/// A job with no keys at all.
#[job]
async fn noop(_ctx: JobCtx, (): ()) -> JobResult {
    Ok(())
}

#[test]
fn a_job_without_keys_has_the_runtime_defaults() {
    let spec = noop.spec();
    let defaults = JobSpec::new("noop");
    assert_eq!(
        (
            spec.name,
            spec.queue,
            spec.retries,
            spec.backoff,
            spec.timeout,
            spec.unique
        ),
        (
            defaults.name,
            defaults.queue,
            defaults.retries,
            defaults.backoff,
            defaults.timeout,
            defaults.unique
        )
    );
    assert_eq!(spec.description, "A job with no keys at all.");
}

/// A job whose `Dep<T>` the app does not register stops the worker, and the API that enqueues
/// it, at start, naming the job and the type: not a failed attempt at the first delivery.
#[tokio::test]
async fn a_job_dependency_that_is_not_registered_fails_at_start() {
    let api = rampart::Api::new();
    let built = rampart::testing::TestApp::builder(api)
        .jobs(JobSet::new().job(send_welcome))
        .build()
        .await;
    let message = built.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("job `send_welcome`"), "{message}");
    assert!(message.contains("Effects"), "{message}");
    assert!(message.contains("App::dep"), "{message}");

    let built = rampart::testing::TestApp::builder(rampart::Api::new())
        .jobs(JobSet::new().job(send_welcome))
        .dependencies(Dependencies::new().with(Effects::default()))
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        built.app().worker().is_ok(),
        "registered: the worker starts"
    );

    // A worker process builds no router: `App::worker` checks the same.
    let app = rampart::App::new(built.app().config().clone(), None)
        .with_jobs(JobSet::new().job(tally))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let message = app
        .worker()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(message.contains("job `stats.tally`"), "{message}");
    assert!(message.contains("Effects"), "{message}");
    assert!(app.dep(Effects::default()).worker().is_ok());
}
