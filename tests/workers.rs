//! Jobs through real worker processes on the real Redis and PostgreSQL: this test's own binary,
//! started again as a worker (`RAMPART_TEST_WORKER=1`), so each worker is a process that can be
//! killed. It proves what the job machinery promises across processes:
//!
//! 1. 1,000 jobs through two workers: every effect happens exactly once;
//! 2. a worker SIGKILLed in the middle of a job: the other worker completes it after the lease,
//!    and the effect still happens once (the job started twice);
//! 3. SIGTERM: the worker finishes the jobs it is running, then exits 0; none runs twice.
//!
//! `harness = false`: `main` is the test. In CI a missing PostgreSQL or Redis fails it.

use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use rampart::jobs::{JobCtx, JobResult, JobSet, Jobs};
use rampart::prelude::*;
use rampart::resource::{Target, Value};
use rampart::testing::{TestBackend, TestDb};
use rampart::{App, Config, Store, job};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One effect per key: `runs` counts how often it happened (once, if `JobCtx::once` holds).
#[resource(table = "effects")]
#[derive(Debug, Clone)]
struct Effect {
    #[resource(id)]
    id: Uuid,
    #[resource(read_only)]
    runs: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Work {
    key: Uuid,
    sleep_ms: u64,
}

/// Notes that it started (outside `once`, so a repeated delivery shows), works a while, then
/// counts its effect once.
#[job(
    queue = "effects",
    retries = 2,
    backoff_base = "100ms",
    timeout = "30s"
)]
async fn count_effect(ctx: JobCtx, input: Work) -> JobResult {
    let store = ctx.store::<Effect>()?;
    store
        .execute(
            "test.started",
            "INSERT INTO job_starts (job_key, pid) VALUES ($1, $2)",
            vec![
                Value::Uuid(input.key),
                Value::Int64(i64::from(std::process::id())),
            ],
        )
        .await?;
    tokio::time::sleep(Duration::from_millis(input.sleep_ms)).await;
    ctx.once(|tx| async move {
        store
            .in_tx(&tx)
            .execute(
                "test.effect",
                "INSERT INTO effects (id, runs) VALUES ($1, 1) \
                 ON CONFLICT (id) DO UPDATE SET runs = effects.runs + 1",
                vec![Value::Uuid(input.key)],
            )
            .await
    })
    .await?;
    Ok(())
}

fn jobs() -> JobSet {
    JobSet::new().job(count_effect)
}

fn redis_url() -> String {
    std::env::var("RAMPART_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// The app of a worker or of the driver, from the environment plus the test's settings.
async fn app(database_url: &str, prefix: &str) -> App {
    let settings = [
        ("DATABASE_URL", database_url.to_owned()),
        ("REDIS_URL", redis_url()),
        ("RAMPART_REDIS_PREFIX", prefix.to_owned()),
        (
            "JWT_SECRET",
            "rampart-test-secret-of-at-least-32-bytes".to_owned(),
        ),
        ("RAMPART_JOB_LEASE", "2s".to_owned()),
        ("RAMPART_JOB_CONCURRENCY", "8".to_owned()),
        ("RAMPART_JOB_SHUTDOWN_GRACE", "20s".to_owned()),
        ("DATABASE_MAX_CONNECTIONS", "12".to_owned()),
    ];
    let config = Config::from_lookup(&|name| {
        settings
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let db = rampart::Db::connect(&config.database)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is required for this test: {e}"));
    App::new(config, Some(db))
        .with_jobs(jobs())
        .await
        .unwrap_or_else(|e| panic!("Redis is required for this test: {e}"))
}

/// The worker process: runs the jobs until SIGTERM.
async fn worker() {
    let url = std::env::var("RAMPART_TEST_DATABASE").unwrap_or_default();
    let prefix = std::env::var("RAMPART_TEST_PREFIX").unwrap_or_default();
    let app = app(&url, &prefix).await;
    let worker = app.worker().unwrap_or_else(|e| panic!("{e}"));
    worker.run(rampart::server::shutdown_signal()).await;
}

struct Workers {
    database_url: String,
    prefix: String,
    children: Vec<Child>,
}

impl Workers {
    fn spawn(&mut self) -> u32 {
        let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
        let child = Command::new(exe)
            .env("RAMPART_TEST_WORKER", "1")
            .env("RAMPART_TEST_DATABASE", &self.database_url)
            .env("RAMPART_TEST_PREFIX", &self.prefix)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start a worker: {e}"));
        let pid = child.id();
        self.children.push(child);
        pid
    }

    fn signal(&self, pid: u32, signal: rustix::process::Signal) {
        let pid = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .unwrap_or_else(|| panic!("a pid"));
        rustix::process::kill_process(pid, signal).unwrap_or_else(|e| panic!("kill: {e}"));
    }

    /// Waits (at most 30 s) for the worker `pid` to exit; its exit status.
    fn wait(&mut self, pid: u32) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        let index = self
            .children
            .iter()
            .position(|child| child.id() == pid)
            .unwrap_or_else(|| panic!("no worker {pid}"));
        loop {
            if let Ok(Some(status)) = self.children[index].try_wait() {
                self.children.remove(index);
                return status;
            }
            assert!(Instant::now() < deadline, "worker {pid} did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn scalar(store: &Store<Effect>, sql: &'static str, values: Vec<Value>) -> i64 {
    store
        .fetch_scalar("test.read", Target::Write, sql, values)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
}

/// Waits (at most `seconds`) for `sql` to answer at least `want`.
async fn until(
    store: &Store<Effect>,
    seconds: u64,
    sql: &'static str,
    values: Vec<Value>,
    want: i64,
) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        let got = scalar(store, sql, values.clone()).await;
        if got >= want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "`{sql}` reached {got}, not {want}, in {seconds} s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn enqueue(jobs: &Jobs, sleep_ms: u64) -> Uuid {
    let key = Uuid::now_v7();
    jobs.enqueue(count_effect, Work { key, sleep_ms })
        .await
        .unwrap_or_else(|e| panic!("enqueue: {e:?}"));
    key
}

async fn driver() {
    let test_db = TestDb::create(TestBackend::Postgres)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let prefix = format!("workers-{}:", Uuid::new_v4().simple());
    let app = app(test_db.url(), &prefix).await;
    let db = app.db().cloned().unwrap_or_else(|| panic!("a database"));
    let store = Store::<Effect>::new(db, app.cursor_key().clone());
    for ddl in [
        "CREATE TABLE effects (id UUID PRIMARY KEY, runs BIGINT NOT NULL)",
        "CREATE TABLE job_starts (job_key UUID NOT NULL, pid BIGINT NOT NULL)",
    ] {
        store
            .execute("test.ddl", ddl, vec![])
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
    }
    let jobs = app
        .jobs()
        .map(|jobs| (*jobs).clone())
        .unwrap_or_else(|| panic!("jobs"));
    let mut workers = Workers {
        database_url: test_db.url().to_owned(),
        prefix,
        children: Vec::new(),
    };
    let first = workers.spawn();
    let second = workers.spawn();

    // 1. A thousand jobs through two workers: each effect exactly once.
    let mut keys = Vec::new();
    for _ in 0..1000 {
        keys.push(enqueue(&jobs, 0).await);
    }
    until(&store, 120, "SELECT COUNT(*) FROM effects", vec![], 1000).await;
    assert_eq!(
        scalar(&store, "SELECT COALESCE(SUM(runs), 0) FROM effects", vec![]).await,
        1000
    );
    assert_eq!(
        scalar(&store, "SELECT COALESCE(MAX(runs), 0) FROM effects", vec![]).await,
        1
    );
    let pids = scalar(&store, "SELECT COUNT(DISTINCT pid) FROM job_starts", vec![]).await;
    assert_eq!(pids, 2, "both workers took jobs");
    println!("1,000 jobs through two workers: each effect once");

    // 2. SIGKILL in the middle of a job: the other worker completes it after the lease.
    let slow = enqueue(&jobs, 3000).await;
    let started = "SELECT COUNT(*) FROM job_starts WHERE job_key = $1";
    until(&store, 30, started, vec![Value::Uuid(slow)], 1).await;
    let holder = scalar(
        &store,
        "SELECT MIN(pid) FROM job_starts WHERE job_key = $1",
        vec![Value::Uuid(slow)],
    )
    .await;
    let holder = u32::try_from(holder).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        holder == first || holder == second,
        "a worker of ours took it"
    );
    workers.signal(holder, rustix::process::Signal::KILL);
    workers.wait(holder);
    until(
        &store,
        60,
        "SELECT COUNT(*) FROM effects WHERE id = $1",
        vec![Value::Uuid(slow)],
        1,
    )
    .await;
    assert_eq!(
        scalar(&store, started, vec![Value::Uuid(slow)]).await,
        2,
        "started again elsewhere"
    );
    assert_eq!(
        scalar(
            &store,
            "SELECT runs FROM effects WHERE id = $1",
            vec![Value::Uuid(slow)]
        )
        .await,
        1
    );
    println!("a job of a SIGKILLed worker: completed by the other, its effect once");

    // 3. SIGTERM drains: the worker finishes what it runs, exits 0, nothing runs twice.
    let survivor = if holder == first { second } else { first };
    let mut draining = Vec::new();
    for _ in 0..4 {
        draining.push(enqueue(&jobs, 1500).await);
    }
    let starts = "SELECT COUNT(*) FROM job_starts WHERE pid = $1 AND job_key IN ($2, $3, $4, $5)";
    let values: Vec<Value> = std::iter::once(Value::Int64(i64::from(survivor)))
        .chain(draining.iter().map(|key| Value::Uuid(*key)))
        .collect();
    until(&store, 30, starts, values, 4).await;
    workers.signal(survivor, rustix::process::Signal::TERM);
    let status = workers.wait(survivor);
    assert!(status.success(), "a drained worker exits 0: {status}");
    for key in &draining {
        assert_eq!(
            scalar(
                &store,
                "SELECT runs FROM effects WHERE id = $1",
                vec![Value::Uuid(*key)]
            )
            .await,
            1
        );
        assert_eq!(
            scalar(&store, started, vec![Value::Uuid(*key)]).await,
            1,
            "not run twice"
        );
    }
    println!("SIGTERM: the running jobs finished, none ran twice");
    drop(workers);
    drop(test_db);
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("no runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    if std::env::var_os("RAMPART_TEST_WORKER").is_some() {
        runtime.block_on(worker());
    } else {
        runtime.block_on(driver());
    }
    ExitCode::SUCCESS
}
