//! Job queue benchmark, against the real Redis at `RAMPART_TEST_REDIS_URL` (default
//! `redis://127.0.0.1:6379`), every key under a prefix of this run's own, deleted afterwards:
//!
//! 1. jobs per second end to end (first enqueue → last effect) through `Jobs::enqueue` on a
//!    `RedisQueue` and `Worker`s (in this process, each with its own `RedisQueue`, as separate
//!    processes would have), beside a bare Redis Streams loop with the same payload, the same
//!    consumer group commands, the same concurrency and the same producers, in the same run;
//!    and the in-process `MemoryQueue` for reference;
//! 2. the latency of a request whose handler enqueues one job, beside the same endpoint
//!    enqueueing nothing, `Jobs::enqueue` alone and a bare `XADD` of the same record
//!    (`latency.rs`).
//!
//! Run with `cargo bench --bench jobs`. `BENCH_JOBS` (default 20,000), `BENCH_ROUNDS` (3),
//! `BENCH_REQUESTS` (10,000), `BENCH_LOG` (the log filter, default `info`: the worker writes its
//! per-job line to a file as in production; `off` is an ablation), `BENCH_ONLY=k` (throughput
//! case k alone, no latency runs: for profiling). Rounds alternate which side goes first; each
//! figure is the median over rounds. Never a timed test: the numbers go to docs/benchmarks.md.

// Not `benches/support.rs`: Cargo would take every file there for a bench of its own.
#[path = "jobs/support.rs"]
mod support;

#[path = "jobs/latency.rs"]
mod latency;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rampart::jobs::{JobServices, Worker, WorkerSettings};
use rampart::resource::CursorKey;
use rampart::{Dependencies, JobCtx, JobResult, JobSet, Jobs, job};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use support::{Commands, Redis, Usage, median};

/// Jobs each worker runs at once (`RAMPART_JOB_CONCURRENCY=8`), and so the bare loop's too.
const CONCURRENCY: usize = 8;
/// Tasks enqueueing at once, for every path alike.
const PRODUCERS: usize = 8;
/// Requests in flight in the concurrent latency run.
const IN_FLIGHT: usize = 32;

/// The one effect of every job: an increment, and a wake-up when the target is reached.
struct Counter {
    count: AtomicU64,
    target: u64,
    reached: Notify,
}

impl Counter {
    fn new(target: u64) -> Arc<Self> {
        Arc::new(Self {
            count: AtomicU64::new(0),
            target,
            reached: Notify::new(),
        })
    }

    fn hit(&self) {
        if self.count.fetch_add(1, Ordering::AcqRel) + 1 == self.target {
            self.reached.notify_one();
        }
    }

    /// Waits for the target; a run that cannot finish (Redis gone) ends the bench instead of
    /// hanging it.
    async fn wait(&self) {
        if tokio::time::timeout(Duration::from_secs(600), self.reached.notified())
            .await
            .is_err()
        {
            panic!(
                "only {} of {} jobs ran in 600 s",
                self.count.load(Ordering::Acquire),
                self.target
            );
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Tick {
    n: u64,
}

/// The trivial job: counts itself.
#[job]
async fn tick(ctx: JobCtx, input: Tick) -> JobResult {
    let _ = input.n;
    ctx.dep::<Counter>()?.hit();
    Ok(())
}

fn job_set() -> JobSet {
    JobSet::new().job(tick)
}

fn cursor_key() -> CursorKey {
    CursorKey::derive(b"rampart jobs bench key")
}

fn settings() -> WorkerSettings {
    WorkerSettings {
        concurrency: CONCURRENCY,
        ..WorkerSettings::default()
    }
}

/// Enqueues are handed out to `PRODUCERS` tasks, each calling `push(index)` in turn.
async fn produce<F, Fut>(jobs: u64, push: F)
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let mut tasks = JoinSet::new();
    for producer in 0..PRODUCERS as u64 {
        let push = push.clone();
        tasks.spawn(async move {
            let mut index = producer;
            while index < jobs {
                push(index).await;
                index += PRODUCERS as u64;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// One end-to-end run.
#[derive(Debug, Clone)]
struct Flow {
    /// First enqueue → the N-th effect.
    seconds: f64,
    /// First enqueue → the last enqueue answered.
    enqueue_seconds: f64,
    usage: Usage,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Path {
    Bare,
    Rampart,
    Memory,
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::Bare => "bare Redis Streams (XADD / XREADGROUP / XACK+XDEL)",
            Path::Rampart => "rampart `Jobs::enqueue` → `RedisQueue` → `Worker`",
            Path::Memory => "rampart `MemoryQueue` (in process, reference)",
        }
    }
}

/// Runs `jobs` trivial jobs through rampart's queue and `workers` workers.
async fn rampart_flow(
    redis: &Redis,
    prefix: &str,
    jobs: u64,
    workers: usize,
    memory: bool,
) -> Flow {
    let counter = Counter::new(jobs);
    let producer = if memory {
        Jobs::in_process(job_set(), cursor_key())
    } else {
        Jobs::new(Arc::new(redis.queue(prefix).await), job_set(), cursor_key())
    };
    let (stop, stopped) = watch::channel(false);
    let mut running = JoinSet::new();
    for _ in 0..workers {
        // Each Redis worker has its own connections, as a worker process would.
        let handle = if memory {
            producer.clone()
        } else {
            Jobs::new(Arc::new(redis.queue(prefix).await), job_set(), cursor_key())
        };
        let services = JobServices::new(
            None,
            Dependencies::new().with_shared(counter.clone()),
            cursor_key(),
            handle,
        );
        let worker = Worker::new(services, settings());
        let mut stopped = stopped.clone();
        running.spawn(worker.run(async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }));
    }
    // The workers' first fetch creates the group and reaches its blocking read.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = redis.usage().await;
    let started = Instant::now();
    produce(jobs, move |n| {
        let producer = producer.clone();
        async move {
            producer
                .enqueue(tick, Tick { n })
                .await
                .unwrap_or_else(|e| panic!("enqueue: {e:?}"));
        }
    })
    .await;
    let enqueue_seconds = started.elapsed().as_secs_f64();
    counter.wait().await;
    let seconds = started.elapsed().as_secs_f64();
    let usage = redis.usage().await.since(&before);
    let _ = stop.send(true);
    while running.join_next().await.is_some() {}
    Flow {
        seconds,
        enqueue_seconds,
        usage,
    }
}

/// The floor: the same stream and consumer-group protocol with nothing around it. Each worker
/// reads as many entries as it has free slots with `XREADGROUP ... BLOCK` on a connection of
/// its own, runs each in a task (the increment), then acknowledges and deletes it with one
/// pipelined `XACK` + `XDEL` on a shared connection; producers `XADD` a body as long as the
/// record rampart queues.
async fn bare_flow(redis: &Redis, prefix: &str, jobs: u64, workers: usize, body: Arc<str>) -> Flow {
    let counter = Counter::new(jobs);
    let stream: Arc<str> = Arc::from(format!("{prefix}bare"));
    let mut admin = redis.connection().await;
    redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&*stream)
        .arg("workers")
        .arg("0")
        .arg("MKSTREAM")
        .query_async::<redis::Value>(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("XGROUP CREATE: {e}"));
    let (stop, stopped) = watch::channel(false);
    let mut running = JoinSet::new();
    for index in 0..workers {
        let reader = redis.blocking_connection().await;
        let acker = redis.connection().await;
        running.spawn(bare_worker(
            reader,
            acker,
            stream.clone(),
            format!("bare-{index}"),
            counter.clone(),
            stopped.clone(),
        ));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = redis.usage().await;
    let started = Instant::now();
    let producer = redis.connection().await;
    let target = stream.clone();
    produce(jobs, move |_| {
        let (mut producer, stream, body) = (producer.clone(), target.clone(), body.clone());
        async move {
            redis::cmd("XADD")
                .arg(&*stream)
                .arg("*")
                .arg("record")
                .arg(&*body)
                .query_async::<redis::Value>(&mut producer)
                .await
                .unwrap_or_else(|e| panic!("XADD: {e}"));
        }
    })
    .await;
    let enqueue_seconds = started.elapsed().as_secs_f64();
    counter.wait().await;
    let seconds = started.elapsed().as_secs_f64();
    let usage = redis.usage().await.since(&before);
    let _ = stop.send(true);
    while running.join_next().await.is_some() {}
    Flow {
        seconds,
        enqueue_seconds,
        usage,
    }
}

async fn bare_worker(
    mut reader: redis::aio::MultiplexedConnection,
    acker: redis::aio::MultiplexedConnection,
    stream: Arc<str>,
    consumer: String,
    counter: Arc<Counter>,
    mut stop: watch::Receiver<bool>,
) {
    let mut running = JoinSet::new();
    while !*stop.borrow() {
        while running.try_join_next().is_some() {}
        let free = CONCURRENCY.saturating_sub(running.len());
        if free == 0 {
            tokio::select! {
                _ = running.join_next() => continue,
                _ = stop.changed() => break,
            }
        }
        let reply = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg("workers")
            .arg(&consumer)
            .arg("COUNT")
            .arg(free)
            .arg("BLOCK")
            .arg(200)
            .arg("STREAMS")
            .arg(&*stream)
            .arg(">")
            .query_async::<redis::Value>(&mut reader)
            .await
            .unwrap_or_else(|e| panic!("XREADGROUP: {e}"));
        for id in support::entry_ids(&reply) {
            let (mut acker, stream, counter) = (acker.clone(), stream.clone(), counter.clone());
            running.spawn(async move {
                counter.hit();
                redis::pipe()
                    .cmd("XACK")
                    .arg(&*stream)
                    .arg("workers")
                    .arg(&id)
                    .cmd("XDEL")
                    .arg(&*stream)
                    .arg(&id)
                    .query_async::<redis::Value>(&mut acker)
                    .await
                    .unwrap_or_else(|e| panic!("XACK + XDEL: {e}"));
            });
        }
    }
    while running.join_next().await.is_some() {}
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let jobs = env_number("BENCH_JOBS", 20_000).max(1);
    let rounds = env_number("BENCH_ROUNDS", 3).max(1) as usize;
    let requests = env_number("BENCH_REQUESTS", 10_000).max(1) as usize;
    let log_path = std::env::temp_dir().join("rampart-bench-jobs.log");
    let log_file = std::fs::File::create(&log_path).unwrap_or_else(|e| panic!("log file: {e}"));
    let (writer, _guard) =
        rampart::observability::BatchWriter::new(log_file).unwrap_or_else(|e| panic!("{e}"));
    let log_filter = std::env::var("BENCH_LOG").unwrap_or_else(|_| "info".to_owned());
    rampart::observability::init_logging_with("bench", writer, &log_filter);
    rampart::observability::install_prometheus();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    runtime.block_on(async {
        let redis = Redis::connect().await;
        let base = format!("rampart-bench-{}:", uuid::Uuid::new_v4().simple());
        println!("{}", redis.describe().await);
        println!("load average before: {}", support::load_average());
        // BENCH_ONLY=k runs throughput case k alone (0: bare, 1: rampart, one worker; ...), for
        // profiling.
        let only = std::env::var("BENCH_ONLY")
            .ok()
            .and_then(|value| value.parse::<usize>().ok());
        throughput_runs(&redis, &base, jobs, rounds, only).await;
        if only.is_none() {
            latency::latency_runs(&redis, &format!("{base}http:"), rounds, requests).await;
        }
        redis.clean(&base).await;
        println!();
        println!("load average after: {}", support::load_average());
    });
}

async fn throughput_runs(redis: &Redis, base: &str, jobs: u64, rounds: usize, only: Option<usize>) {
    let body: Arc<str> = Arc::from(support::record_body("tick", &Tick { n: jobs }));
    let cases = [
        (Path::Bare, 1),
        (Path::Rampart, 1),
        (Path::Bare, 2),
        (Path::Rampart, 2),
        (Path::Memory, 1),
        (Path::Memory, 2),
    ];
    let mut samples: Vec<Vec<Flow>> = vec![Vec::new(); cases.len()];
    let mut run = 0usize;
    for round in 0..rounds {
        // Pairs (bare, rampart) swap their order every other round.
        let mut order: Vec<usize> = (0..cases.len()).collect();
        if round % 2 == 1 {
            order = vec![1, 0, 3, 2, 5, 4];
        }
        for index in order {
            if only.is_some_and(|only| only != index) {
                continue;
            }
            let (path, workers) = cases[index];
            let prefix = format!("{base}{run}:");
            run += 1;
            let flow = match path {
                Path::Bare => bare_flow(redis, &prefix, jobs, workers, body.clone()).await,
                Path::Rampart => rampart_flow(redis, &prefix, jobs, workers, false).await,
                Path::Memory => rampart_flow(redis, &prefix, jobs, workers, true).await,
            };
            redis.clean(&prefix).await;
            eprintln!(
                "round {round}: {} x{workers}: {:.0} jobs/s, {:.2} round trips/job",
                path.name(),
                jobs as f64 / flow.seconds,
                round_trips(path, &flow.usage.commands, jobs)
            );
            samples[index].push(flow);
        }
    }
    println!();
    println!(
        "{jobs} trivial jobs (the effect: an atomic increment), first enqueue → last effect; {PRODUCERS} producer tasks; concurrency {CONCURRENCY} per worker; workers in this process; record body {} bytes; median of {rounds} alternating rounds",
        body.len()
    );
    println!();
    println!(
        "| path | workers | jobs/s | range | enqueue phase (jobs/s) | vs bare Redis | bench CPU (µs/job) | Redis CPU (µs/job) | Redis round trips / job |"
    );
    println!("|---|---:|---:|---|---:|---:|---:|---:|---:|");
    let mut bare_rate = [f64::NAN; 3];
    for (index, (path, workers)) in cases.iter().enumerate() {
        let runs = &samples[index];
        if runs.is_empty() {
            continue;
        }
        let per = |f: &dyn Fn(&Flow) -> f64| median(runs.iter().map(f).collect());
        let rate = per(&|flow| jobs as f64 / flow.seconds);
        let rates: Vec<f64> = runs.iter().map(|flow| jobs as f64 / flow.seconds).collect();
        let low = rates.iter().copied().fold(f64::INFINITY, f64::min);
        let high = rates.iter().copied().fold(0.0, f64::max);
        let enqueue = per(&|flow| jobs as f64 / flow.enqueue_seconds);
        let client = per(&|flow| flow.usage.client_cpu * 1e6 / jobs as f64);
        let server = per(&|flow| flow.usage.redis_cpu * 1e6 / jobs as f64);
        let trips = per(&|flow| round_trips(*path, &flow.usage.commands, jobs));
        let versus = match path {
            Path::Bare => {
                bare_rate[*workers] = rate;
                "1.00x".to_owned()
            }
            Path::Rampart => format!("{:.2}x", rate / bare_rate[*workers]),
            Path::Memory => "—".to_owned(),
        };
        let (server, trips) = if *path == Path::Memory {
            ("—".to_owned(), "—".to_owned())
        } else {
            (format!("{server:.1}"), format!("{trips:.2}"))
        };
        println!(
            "| {} | {workers} | {rate:.0} | {low:.0}–{high:.0} | {enqueue:.0} | {versus} | {client:.1} | {server} | {trips} |",
            path.name()
        );
    }
    println!();
    println!(
        "Redis commands per job (INFO commandstats over the timed window of the last round; commands a script runs are counted under their own names):"
    );
    println!();
    println!("| path | workers | commands per job |");
    println!("|---|---:|---|");
    for (index, (path, workers)) in cases.iter().enumerate() {
        if *path == Path::Memory {
            continue;
        }
        if let Some(flow) = samples[index].last() {
            println!(
                "| {} | {workers} | {} |",
                path.name(),
                flow.usage.commands.per_job(jobs)
            );
        }
    }
}

/// Commands sent by the client (one round trip each, or one per pipeline), per job: not the
/// commands a script runs inside Redis, and the pipelined `XDEL` rides with its `XACK`.
fn round_trips(path: Path, commands: &Commands, jobs: u64) -> f64 {
    let sent: &[&str] = match path {
        Path::Bare => &["xadd", "xreadgroup", "xack", "xgroup"],
        Path::Rampart => &[
            "evalsha",
            "eval",
            "script",
            "xautoclaim",
            "xreadgroup",
            "xgroup",
        ],
        Path::Memory => &[],
    };
    let total: u64 = sent.iter().map(|name| commands.calls(name)).sum();
    total as f64 / jobs as f64
}
