//! Scheduled (`cron`) jobs on a real Redis: two queues claiming the same tick concurrently,
//! exactly one wins (the key `{prefix}jobs:cron:{job}:{tick}` with its TTL); and two workers,
//! each with its own connection, running a `* * * * *` job declared with `#[job]`, which runs
//! exactly once for the next minute's tick across both. Each test uses its own key prefix; a
//! Redis that cannot be reached fails the test, it never skips it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rampart::jobs::{JobServices, Queue, RedisQueue, Worker, WorkerSettings};
use rampart::resource::CursorKey;
use rampart::{Dependencies, JobCtx, JobError, JobResult, JobSet, Jobs, job};

fn redis_url() -> String {
    std::env::var("RAMPART_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn now_ms() -> i64 {
    let elapsed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
}

/// A prefix of the test's own, and a raw connection to inspect and clean up with.
async fn redis() -> (String, redis::aio::MultiplexedConnection) {
    let url = redis_url();
    let prefix = format!("rampart-test-{}:", uuid::Uuid::new_v4().simple());
    let client = redis::Client::open(url.as_str()).unwrap_or_else(|e| panic!("{url}: {e}"));
    let raw = client
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("these tests need a Redis at {url}: {e}"));
    (prefix, raw)
}

async fn queue(prefix: &str) -> Arc<RedisQueue> {
    Arc::new(
        RedisQueue::connect(&redis_url(), prefix)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    )
}

async fn cleanup(raw: &mut redis::aio::MultiplexedConnection, prefix: &str) {
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(raw)
        .await
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(&keys).query_async(raw).await;
    }
}

#[tokio::test]
async fn one_of_two_concurrent_claims_of_a_tick_wins_on_redis() {
    let (prefix, mut raw) = redis().await;
    // Two connections, as two worker processes would have.
    let (one, two) = (queue(&prefix).await, queue(&prefix).await);
    let ttl = Duration::from_secs(3600);
    let first_tick = 1_704_067_200_000_i64;
    for n in 0..20 {
        let tick = first_tick + n * 60_000;
        let (a, b) = tokio::join!(
            one.claim_tick("nightly", tick, ttl),
            two.claim_tick("nightly", tick, ttl)
        );
        let (a, b) = (
            a.unwrap_or_else(|e| panic!("claims: {e}")),
            b.unwrap_or_else(|e| panic!("claims: {e}")),
        );
        assert!(a ^ b, "tick {tick}: exactly one claim wins ({a}, {b})");
        assert!(
            !one.claim_tick("nightly", tick, ttl)
                .await
                .unwrap_or_else(|e| panic!("claims: {e}"))
        );
    }
    let key = format!("{prefix}jobs:cron:nightly:{first_tick}");
    let pttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut raw)
        .await
        .unwrap_or_else(|e| panic!("PTTL: {e}"));
    assert!(pttl > 0 && pttl <= 3_600_000, "{key}: PTTL {pttl}");
    // Another job's tick is its own.
    assert!(
        two.claim_tick("weekly", first_tick, ttl)
            .await
            .unwrap_or_else(|e| panic!("claims: {e}"))
    );
    cleanup(&mut raw, &prefix).await;
}

/// When each run started (ms), for the test to read.
#[derive(Default)]
struct Runs(Mutex<Vec<i64>>);

impl Runs {
    fn times(&self) -> Vec<i64> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// Records when it runs.
#[job(cron = "* * * * *")]
async fn every_minute(ctx: JobCtx, (): ()) -> JobResult {
    ctx.dep::<Runs>()?
        .0
        .lock()
        .map_err(|_| JobError::retry("poisoned"))?
        .push(now_ms());
    Ok(())
}

#[tokio::test]
async fn two_workers_run_a_minutely_job_once_for_its_tick() {
    let (prefix, mut raw) = redis().await;
    let runs = Arc::new(Runs::default());
    let key = CursorKey::derive(b"jobs cron test key");
    let worker = |queue: Arc<RedisQueue>| {
        let jobs = Jobs::new(queue, JobSet::new().job(every_minute), key.clone());
        let services = JobServices::new(
            None,
            Dependencies::new().with_shared(runs.clone()),
            key.clone(),
            jobs,
        );
        Worker::new(
            services,
            WorkerSettings {
                poll_wait: Duration::from_millis(100),
                shutdown_grace: Duration::from_secs(2),
                ..WorkerSettings::default()
            },
        )
    };
    let (one, two) = (worker(queue(&prefix).await), worker(queue(&prefix).await));
    let started = now_ms();
    // The next whole minute: the first tick either worker's scheduler waits for.
    let tick = (started.div_euclid(60_000) + 1) * 60_000;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let wait_stop = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    let control = async {
        // Until the tick's run happened and both schedulers are well past the tick (they wake
        // at it), within a deadline of 20 s past the tick.
        let deadline = tokio::time::Instant::now()
            + Duration::from_millis(u64::try_from(tick - started).unwrap_or(0))
            + Duration::from_secs(20);
        while tokio::time::Instant::now() < deadline {
            if !runs.times().is_empty() && now_ms() > tick + 3000 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let seen = runs.times();
        let _ = stop.send(true);
        seen
    };
    let (seen, first, second) = tokio::join!(
        control,
        one.run(wait_stop(stopped.clone())),
        two.run(wait_stop(stopped))
    );
    assert_eq!(
        seen.len(),
        1,
        "one run for the tick across two workers: {seen:?}"
    );
    assert!(
        seen[0] >= tick,
        "the run starts at its tick, not before: {seen:?} < {tick}"
    );
    assert_eq!(first.done + second.done, 1, "{first:?} {second:?}");
    assert_eq!(
        runs.times().len(),
        1,
        "nothing ran while the workers stopped"
    );
    // The claim is kept (24 h), and nothing else was queued.
    let claim = format!("{prefix}jobs:cron:every_minute:{tick}");
    let exists: i64 = redis::cmd("EXISTS")
        .arg(&claim)
        .query_async(&mut raw)
        .await
        .unwrap_or_else(|e| panic!("EXISTS: {e}"));
    assert_eq!(exists, 1, "{claim}");
    let queued: i64 = redis::cmd("XLEN")
        .arg(format!("{prefix}jobs:default"))
        .query_async(&mut raw)
        .await
        .unwrap_or_else(|e| panic!("XLEN: {e}"));
    assert_eq!(queued, 0);
    cleanup(&mut raw, &prefix).await;
}
