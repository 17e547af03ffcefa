//! Transactional enqueue and once-only effects on both databases, through the real app: a job
//! enqueued in a transaction that rolls back never runs; one whose transaction commits runs
//! exactly once; a job delivered twice (a worker that died after the effect) has its effect
//! once.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use rampart::jobs::{Job, JobCtx, JobId, JobRecord, JobResult, JobSet, JobSpec, Jobs, Queue};
use rampart::resource::{CursorKey, Target, Value};
use rampart::testing::{BACKENDS, TestApp, TestBackend};
use rampart::{Api, Store, Tx};
use serde::{Deserialize, Serialize};

use crate::taskboard::projects::Project;

static EFFECT: JobSpec = JobSpec {
    retries: 0,
    backoff: rampart::jobs::Backoff::None,
    ..JobSpec::new("count_effect")
};

/// Counts one run of its key in `job_effects`, once per job id.
#[derive(Clone, Copy, Debug)]
struct CountEffect;

#[derive(Debug, Serialize, Deserialize)]
struct EffectInput {
    key: String,
}

fn store(db: &rampart::Db) -> Store<Project> {
    Store::new(db.clone(), CursorKey::derive(b"jobs outbox test"))
}

impl Job for CountEffect {
    type Input = EffectInput;
    fn spec(self) -> &'static JobSpec {
        &EFFECT
    }
    fn run(self, ctx: JobCtx, input: EffectInput) -> BoxFuture<'static, JobResult> {
        Box::pin(async move {
            let db = ctx.db()?.clone();
            ctx.once(|tx| async move {
                store(&db)
                    .in_tx(&tx)
                    .execute(
                        "test.effect",
                        "INSERT INTO job_effects (effect_key, runs) VALUES ($1, 1) \
                         ON CONFLICT (effect_key) DO UPDATE SET runs = job_effects.runs + 1",
                        vec![Value::Text(input.key)],
                    )
                    .await
            })
            .await?;
            Ok(())
        })
    }
}

async fn app(backend: TestBackend) -> TestApp {
    let app = TestApp::builder(Api::new())
        .backend(backend)
        .migrations(crate::taskboard::MIGRATIONS)
        .with_identity()
        .jobs(JobSet::new().job(CountEffect))
        .build()
        .await
        .unwrap_or_else(|e| panic!("{backend:?}: {e}"));
    let db = app
        .app()
        .db()
        .cloned()
        .unwrap_or_else(|| panic!("a database"));
    store(&db)
        .execute(
            "test.effects.create",
            "CREATE TABLE job_effects (effect_key TEXT PRIMARY KEY, runs INTEGER NOT NULL)",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    app
}

async fn runs(app: &TestApp, key: &str) -> i64 {
    let db = app
        .app()
        .db()
        .cloned()
        .unwrap_or_else(|| panic!("a database"));
    store(&db)
        .fetch_scalar(
            "test.effects.read",
            Target::Write,
            "SELECT COALESCE(SUM(runs), 0) FROM job_effects WHERE effect_key = $1",
            vec![Value::Text(key.to_owned())],
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
}

fn jobs(app: &TestApp) -> Jobs {
    app.app()
        .jobs()
        .map(|jobs| (*jobs).clone())
        .unwrap_or_else(|| panic!("jobs are declared"))
}

#[tokio::test]
async fn a_job_enqueued_in_a_transaction_runs_if_and_only_if_it_commits() {
    for backend in BACKENDS {
        let app = app(backend).await;
        let db = app
            .app()
            .db()
            .cloned()
            .unwrap_or_else(|| panic!("a database"));
        let jobs = jobs(&app);

        let tx = Tx::begin(&db).await.unwrap_or_else(|e| panic!("{e:?}"));
        jobs.enqueue_tx(
            &tx,
            CountEffect,
            EffectInput {
                key: "rolled back".into(),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
        tx.rollback().await.unwrap_or_else(|e| panic!("{e:?}"));

        let tx = Tx::begin(&db).await.unwrap_or_else(|e| panic!("{e:?}"));
        jobs.enqueue_tx(
            &tx,
            CountEffect,
            EffectInput {
                key: "committed".into(),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
        // Not delivered before the commit: the row is invisible outside the transaction.
        let before = jobs
            .stats("default")
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            before.ready, 0,
            "{backend:?}: nothing queued before the commit"
        );
        tx.commit().await.unwrap_or_else(|e| panic!("{e:?}"));

        let report = app.drain_jobs().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.done, 1, "{backend:?}");
        assert_eq!(runs(&app, "committed").await, 1, "{backend:?}");
        assert_eq!(runs(&app, "rolled back").await, 0, "{backend:?}");
    }
}

#[tokio::test]
async fn a_job_delivered_twice_has_its_effect_once() {
    for backend in BACKENDS {
        let app = app(backend).await;
        let jobs = jobs(&app);
        let id = jobs
            .enqueue(
                CountEffect,
                EffectInput {
                    key: "twice".into(),
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        app.drain_jobs().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(runs(&app, "twice").await, 1, "{backend:?}");
        // The same record again, as a redelivery after a worker died before acknowledging.
        let record = JobRecord {
            id,
            job: "count_effect".into(),
            queue: "default".into(),
            payload: "{\"key\":\"twice\"}".into(),
            attempt: 1,
            enqueued_at_ms: 0,
            request_id: None,
            traceparent: None,
            scope: None,
            last_error: None,
        };
        let queue: Arc<dyn Queue> = Arc::new(rampart::jobs::MemoryQueue::new());
        let again = Jobs::new(
            queue.clone(),
            JobSet::new().job(CountEffect),
            CursorKey::derive(b"k"),
        );
        queue
            .push(&record, None, None)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        let services = rampart::jobs::JobServices::new(
            app.app().db().cloned(),
            app.app().dependencies().clone(),
            CursorKey::derive(b"k"),
            again,
        );
        let watched = services.clone();
        let report = rampart::jobs::Worker::new(services, rampart::jobs::WorkerSettings::default())
            .run(async move {
                // Until the queue is empty again (bounded: 10 s).
                for _ in 0..200 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    if rampart::jobs::is_idle(&watched).await {
                        break;
                    }
                }
            })
            .await;
        assert_eq!(report.done, 1, "{backend:?}: the delivery succeeds");
        assert_eq!(
            runs(&app, "twice").await,
            1,
            "{backend:?}: the effect did not repeat"
        );
        let _: JobId = id;
    }
}

/// While Redis is down, a plain enqueue is refused (503) but a transactional one commits: the
/// job waits in the outbox and runs, once, when Redis is back. Meanwhile the relay keeps
/// failing and the database stays writable (on SQLite the relay holds no lock while it talks
/// to Redis).
#[tokio::test]
async fn a_transactional_enqueue_succeeds_while_redis_is_down_and_runs_when_it_is_back() {
    for backend in BACKENDS {
        outage_on(backend).await;
    }
}

async fn outage_on(backend: TestBackend) {
    use crate::jobs_redis::{OwnRedis, RemoveOnDrop};
    let dir = std::env::temp_dir().join(format!("rampart-outbox-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let _remove = RemoveOnDrop(dir.clone());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut redis = OwnRedis::start(port, &dir);
    let app = TestApp::builder(Api::new())
        .backend(backend)
        .migrations(crate::taskboard::MIGRATIONS)
        .redis(redis.url(), "outbox")
        .jobs(JobSet::new().job(CountEffect))
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let db = app
        .app()
        .db()
        .cloned()
        .unwrap_or_else(|| panic!("a database"));
    store(&db)
        .execute(
            "test.effects.create",
            "CREATE TABLE job_effects (effect_key TEXT PRIMARY KEY, runs INTEGER NOT NULL)",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let jobs = jobs(&app);
    assert!(!jobs.is_in_process(), "on the test's own Redis");

    redis.kill();
    let refused = jobs
        .enqueue(
            CountEffect,
            EffectInput {
                key: "plain".into(),
            },
        )
        .await
        .err()
        .map(|e| e.code());
    assert_eq!(
        refused,
        Some(rampart::ErrorCode::Unavailable),
        "{backend:?}"
    );
    let enqueue_in_tx = |key: &'static str| {
        let (db, jobs) = (db.clone(), jobs.clone());
        async move {
            let tx = Tx::begin(&db).await.unwrap_or_else(|e| panic!("{e:?}"));
            jobs.enqueue_tx(&tx, CountEffect, EffectInput { key: key.into() })
                .await
                .unwrap_or_else(|e| panic!("the outbox takes it while Redis is down: {e:?}"));
            tx.commit()
                .await
                .unwrap_or_else(|e| panic!("{backend:?}: {e:?}"));
        }
    };
    enqueue_in_tx("outboxed").await;

    // A worker (and its relay) running against the dead Redis.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = app.app().worker().unwrap_or_else(|e| panic!("{e}"));
    let running = tokio::spawn(worker.run(async {
        let _ = stopped.await;
    }));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The relay has failed by now, at least once; writes still commit.
    enqueue_in_tx("during the outage").await;

    let _redis = OwnRedis::start(port, &dir);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while runs(&app, "outboxed").await < 1 || runs(&app, "during the outage").await < 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "{backend:?}: the outboxed jobs did not run"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(());
    let _ = running.await;
    assert_eq!(runs(&app, "outboxed").await, 1, "{backend:?}");
    assert_eq!(runs(&app, "during the outage").await, 1, "{backend:?}");
    assert_eq!(
        runs(&app, "plain").await,
        0,
        "{backend:?}: the refused enqueue left nothing"
    );
}

/// An app whose endpoints enqueue but which declares no jobs does not start, and says how.
#[tokio::test]
async fn an_api_that_enqueues_without_declared_jobs_does_not_start() {
    let built = TestApp::builder(crate::taskboard::api())
        .dependencies(
            crate::taskboard::dependencies(rampart::Environment::Development)
                .unwrap_or_else(|e| panic!("taskboard dependencies: {e}")),
        )
        .build()
        .await;
    let message = built.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("App::with_jobs"), "{message}");
    assert!(message.contains("create_export"), "{message}");
}

/// Production with jobs declared and no queue configured does not start: the in-process queue
/// would lose every job on a restart and never reach a worker process.
#[tokio::test]
async fn production_with_jobs_and_no_redis_does_not_start() {
    let built = TestApp::builder(Api::new())
        .jobs(JobSet::new().job(CountEffect))
        .configure(|config| config.environment = rampart::Environment::Production)
        .build()
        .await;
    let message = built.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("REDIS_URL"), "{message}");
}
