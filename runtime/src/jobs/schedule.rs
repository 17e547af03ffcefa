//! The scheduler of `cron` jobs, one per worker: for each scheduled job of the set it sleeps
//! until the job's next tick (the expression's next time after now, in UTC), claims the tick on
//! the queue ([`Queue::claim_tick`](super::Queue::claim_tick)) and, when this worker won the
//! claim, enqueues the run through the normal path under the unique key `cron:{job}:{tick}`.
//! Every worker of every instance runs this; the claim makes each tick run once among them.
//!
//! A tick that passes while no worker runs is not run later, and neither are ticks that pass
//! while one worker cannot reach the queue (it retries a tick until the next one is due, then
//! gives it up): after an outage a backlog of identical runs is rarely what a schedule wants,
//! and a job that needs every period covered keeps its own watermark. A worker that dies
//! between claiming a tick and enqueueing its run loses that tick.

use std::time::Duration;

use rampart_spec::Cron;
use tokio::sync::watch;

use super::handle::Jobs;
use super::job::JobSpec;
use super::queue::{Enqueued, QueueError, now_ms};

/// How long a tick's claim and its run's unique key are kept: far longer than any clock skew
/// between workers, so a worker whose clock runs late finds the claim still there.
pub(crate) const CLAIM_TTL: Duration = Duration::from_secs(24 * 3600);

/// The longest single sleep: the wall clock is read again after it, so a clock that was set
/// while the scheduler slept delays a tick by at most this.
const MAX_SLEEP: Duration = Duration::from_secs(30);

/// The longest pause between two attempts at a tick the queue did not take.
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// Runs the schedules of `jobs`' cron jobs until `stop` is set.
pub(crate) async fn schedule(jobs: Jobs, stop: watch::Receiver<bool>) {
    let scheduled: Vec<(&'static JobSpec, Cron)> = jobs
        .set()
        .specs()
        .filter_map(|spec| {
            let text = spec.cron?;
            let has_input = jobs
                .set()
                .get(spec.name)
                .is_some_and(|registered| registered.scheduled.is_some());
            if !has_input {
                tracing::error!(target: "rampart::jobs", job = spec.name, "the job declares `cron` but no scheduled input (`Job::scheduled_input`): it is not scheduled");
                return None;
            }
            match Cron::parse(text) {
                Ok(cron) => Some((spec, cron)),
                Err(error) => {
                    tracing::error!(target: "rampart::jobs", job = spec.name, cron = text, error = %error, "the job's `cron` does not parse: it is not scheduled");
                    None
                }
            }
        })
        .collect();
    if scheduled.is_empty() {
        return;
    }
    let names: Vec<&str> = scheduled.iter().map(|(spec, _)| spec.name).collect();
    tracing::info!(target: "rampart::jobs", jobs = ?names, "scheduler started");
    futures_util::future::join_all(
        scheduled
            .into_iter()
            .map(|(spec, cron)| run_schedule(jobs.clone(), spec, cron, stop.clone())),
    )
    .await;
}

/// The tick after `after_ms`, in ms.
fn next_tick(cron: &Cron, after_ms: i64) -> Option<i64> {
    cron.next_after(after_ms.div_euclid(1000))?
        .checked_mul(1000)
}

/// One job's schedule.
async fn run_schedule(
    jobs: Jobs,
    spec: &'static JobSpec,
    cron: Cron,
    mut stop: watch::Receiver<bool>,
) {
    let mut after = now_ms();
    loop {
        let Some(tick) = next_tick(&cron, after) else {
            tracing::warn!(target: "rampart::jobs", job = spec.name, "the job's `cron` names no later time: its schedule ends");
            return;
        };
        if !sleep_until(tick, &mut stop).await {
            return;
        }
        let following = next_tick(&cron, tick).unwrap_or(i64::MAX);
        if !fire(&jobs, spec, tick, following, &mut stop).await {
            return;
        }
        // Ticks that passed while this one was handled are skipped, like missed ones.
        after = tick.max(now_ms());
    }
}

/// Sleeps until the wall clock reaches `at_ms`; `false` when told to stop first.
async fn sleep_until(at_ms: i64, stop: &mut watch::Receiver<bool>) -> bool {
    loop {
        if *stop.borrow() {
            return false;
        }
        let now = now_ms();
        if now >= at_ms {
            return true;
        }
        let wait = Duration::from_millis(u64::try_from(at_ms - now).unwrap_or(0)).min(MAX_SLEEP);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            changed = stop.changed() => if changed.is_err() { return false },
        }
    }
}

/// Claims `tick` and, when this worker won it, enqueues the run. A queue that fails is tried
/// again (the claim is not taken twice: a won claim is remembered, and the enqueue collapses
/// under its unique key) until the `following` tick is due. `false` when told to stop first.
async fn fire(
    jobs: &Jobs,
    spec: &'static JobSpec,
    tick: i64,
    following: i64,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let job = spec.name;
    let mut claimed = false;
    let mut pause = Duration::from_millis(250);
    let mut failures = 0u32;
    loop {
        match attempt(jobs, job, tick, &mut claimed).await {
            Ok(Some(Enqueued::New(id))) => {
                tracing::info!(target: "rampart::jobs", job, tick, job_id = %id, "scheduled run enqueued");
                metrics::counter!("jobs_cron_ticks_total", "job" => job).increment(1);
                return true;
            }
            // A repeat after a reply that was lost: the run is queued already.
            Ok(Some(Enqueued::Duplicate(_))) => return true,
            Ok(None) => {
                tracing::debug!(target: "rampart::jobs", job, tick, "scheduled run claimed by another worker");
                return true;
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                if now_ms().saturating_add(super::queue::millis(pause)) >= following {
                    tracing::warn!(target: "rampart::jobs", job, tick, error = %error, "scheduled run missed: the queue did not take it before the next tick");
                    return true;
                }
                if failures == 1 {
                    tracing::warn!(target: "rampart::jobs", job, tick, error = %error, "cannot enqueue a scheduled run; retrying");
                }
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    changed = stop.changed() => if changed.is_err() || *stop.borrow() { return false },
                }
                pause = (pause * 2).min(MAX_PAUSE);
            }
        }
    }
}

/// One try at a tick: the claim (unless won already), then the enqueue. `Ok(None)` when
/// another worker holds the claim.
async fn attempt(
    jobs: &Jobs,
    job: &str,
    tick: i64,
    claimed: &mut bool,
) -> Result<Option<Enqueued>, QueueError> {
    if !*claimed {
        *claimed = jobs.queue().claim_tick(job, tick, CLAIM_TTL).await?;
        if !*claimed {
            return Ok(None);
        }
    }
    jobs.enqueue_tick(job, tick, CLAIM_TTL).await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use futures_util::future::BoxFuture;

    use super::*;
    use crate::jobs::{Job, JobCtx, JobResult, JobSet, MemoryQueue, Queue};
    use crate::resource::CursorKey;

    static NIGHTLY: JobSpec = JobSpec {
        cron: Some("0 3 * * *"),
        ..JobSpec::new("nightly")
    };

    #[derive(Clone, Copy, Debug)]
    struct Nightly;

    impl Job for Nightly {
        type Input = ();
        fn spec(self) -> &'static JobSpec {
            &NIGHTLY
        }
        fn run(self, _: JobCtx, (): ()) -> BoxFuture<'static, JobResult> {
            Box::pin(async { Ok(()) })
        }
        fn scheduled_input(self) -> Option<()> {
            Some(())
        }
    }

    #[tokio::test]
    async fn one_of_two_concurrent_claims_of_a_tick_wins_in_memory() {
        let queue = Arc::new(MemoryQueue::new());
        for tick in [1_704_067_200_000, 1_704_067_260_000] {
            let claims = (0..2).map(|_| {
                let queue = queue.clone();
                tokio::spawn(async move { queue.claim_tick("nightly", tick, CLAIM_TTL).await })
            });
            let mut won = 0;
            for claim in claims {
                if claim
                    .await
                    .unwrap_or_else(|e| panic!("joins: {e:?}"))
                    .unwrap_or_else(|e| panic!("claims: {e:?}"))
                {
                    won += 1;
                }
            }
            assert_eq!(won, 1, "tick {tick}");
            assert!(
                !queue
                    .claim_tick("nightly", tick, CLAIM_TTL)
                    .await
                    .unwrap_or_else(|e| panic!("claims: {e:?}"))
            );
        }
        // Another job's tick is its own.
        assert!(
            queue
                .claim_tick("weekly", 1_704_067_200_000, CLAIM_TTL)
                .await
                .unwrap_or_else(|e| panic!("claims: {e:?}"))
        );
        // A forgotten claim is pruned: a zero TTL is forgotten by the next call.
        assert!(
            queue
                .claim_tick("brief", 1, Duration::ZERO)
                .await
                .unwrap_or_else(|e| panic!("claims: {e:?}"))
        );
        assert!(
            queue
                .claim_tick("brief", 1, Duration::ZERO)
                .await
                .unwrap_or_else(|e| panic!("claims: {e:?}"))
        );
    }

    #[tokio::test]
    async fn two_workers_firing_one_tick_enqueue_one_run() {
        let key = CursorKey::derive(b"schedule test key");
        let jobs = Jobs::in_process(JobSet::new().job(Nightly), key);
        let tick = 1_704_081_600_000;
        let (_stop, stopped) = watch::channel(false);
        let fire_once = |jobs: Jobs, mut stop: watch::Receiver<bool>| async move {
            fire(&jobs, &NIGHTLY, tick, i64::MAX, &mut stop).await
        };
        let (first, second) = tokio::join!(
            fire_once(jobs.clone(), stopped.clone()),
            fire_once(jobs.clone(), stopped.clone())
        );
        assert!(first && second);
        let stats = jobs
            .stats("default")
            .await
            .unwrap_or_else(|e| panic!("stats: {e:?}"));
        assert_eq!(stats.ready, 1, "{stats:?}");
        // The run carries the scheduled input, and enqueueing the tick again collapses.
        let again = jobs
            .enqueue_tick("nightly", tick, CLAIM_TTL)
            .await
            .unwrap_or_else(|e| panic!("enqueues: {e:?}"));
        assert!(matches!(again, Some(Enqueued::Duplicate(_))), "{again:?}");
        let delivered = jobs
            .queue()
            .fetch("default", "w", 10, Duration::ZERO, Duration::from_secs(30))
            .await
            .unwrap_or_else(|e| panic!("fetches: {e:?}"));
        assert_eq!(delivered.len(), 1);
        let record = delivered[0]
            .record
            .as_ref()
            .unwrap_or_else(|e| panic!("decodes: {e:?}"));
        assert_eq!(
            (record.job.as_str(), record.payload.as_str()),
            ("nightly", "null")
        );
    }

    #[tokio::test]
    async fn the_scheduler_stops_at_once_when_told() {
        let key = CursorKey::derive(b"schedule test key");
        let jobs = Jobs::in_process(JobSet::new().job(Nightly), key);
        let (stop, stopped) = watch::channel(false);
        let scheduler = tokio::spawn(schedule(jobs, stopped));
        stop.send(true)
            .unwrap_or_else(|e| panic!("the scheduler listens: {e:?}"));
        // Its next tick is hours away at most a day: it returns on the stop, not the tick.
        tokio::time::timeout(Duration::from_secs(30), scheduler)
            .await
            .unwrap_or_else(|e| panic!("the scheduler stops: {e:?}"))
            .unwrap_or_else(|e| panic!("joins: {e:?}"));
    }

    #[test]
    fn ticks_are_whole_minutes_strictly_after() {
        let every = Cron::parse("* * * * *").unwrap_or_else(|e| panic!("parses: {e:?}"));
        // 2024-01-01T00:00:00Z.
        let start = 1_704_067_200_000;
        assert_eq!(next_tick(&every, start), Some(start + 60_000));
        assert_eq!(next_tick(&every, start + 59_999), Some(start + 60_000));
        assert_eq!(next_tick(&every, start - 1), Some(start));
    }
}
