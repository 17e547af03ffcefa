// The forms a job takes: every key, none, a unit input, patterns, `pub`, a renamed job, and
// the uses (registering, enqueueing, reading the spec).
use std::time::Duration;

use rampart::jobs::Backoff;
use rampart::{job, Job, JobCtx, JobError, JobResult, JobSet, Jobs};

#[derive(serde::Serialize, serde::Deserialize)]
pub struct Welcome {
    email: String,
}

/// Sends the welcome mail.
#[job(queue = "mail", retries = 8, backoff = "exponential", backoff_base = "2s", timeout = "30s", unique = "10m")]
pub async fn send_welcome(ctx: JobCtx, input: Welcome) -> JobResult {
    if input.email.is_empty() {
        return Err(JobError::permanent("no address"));
    }
    let _ = ctx.attempt();
    Ok(())
}

#[job]
async fn tick(_: JobCtx, (): ()) -> JobResult {
    Ok(())
}

#[job(name = "reports.nightly:v2", backoff = "fixed", retries = 3)]
async fn nightly(_ctx: JobCtx, days: u32) -> Result<(), JobError> {
    let _ = days;
    Ok(())
}

#[job(backoff = "none", unique = "1h")]
pub(crate) async fn cleanup(ctx: JobCtx, Welcome { email }: Welcome) -> JobResult {
    let _ = (ctx.id(), email);
    Ok(())
}

#[job(backoff_base = "250ms")]
async fn r#await(ctx: JobCtx, input: Vec<String>) -> rampart::JobResult {
    let _ = (ctx, input);
    Ok(())
}

/// Scheduled: a unit input, and one deriving `Default`.
#[job(cron = "0 3 * * *")]
async fn purge(_: JobCtx, (): ()) -> JobResult {
    Ok(())
}

#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Report {
    full: bool,
}

#[job(cron = "*/15 8-18 * JAN-jun mon-fri", queue = "reports")]
async fn report(_: JobCtx, input: Report) -> JobResult {
    let _ = input.full;
    Ok(())
}

async fn enqueue_all(jobs: &Jobs) -> Result<(), rampart::ApiError> {
    jobs.enqueue(send_welcome, Welcome { email: "a@example.com".to_owned() }).await?;
    jobs.enqueue(tick, ()).await?;
    jobs.enqueue(nightly, 7).await?;
    jobs.enqueue(cleanup, Welcome { email: String::new() }).await?;
    jobs.enqueue(r#await, vec![]).await?;
    Ok(())
}

fn main() {
    let set = JobSet::new().job(send_welcome).job(tick).job(nightly).job(cleanup).job(r#await);
    assert!(set.duplicates().is_empty());
    assert_eq!(send_welcome.spec().timeout, Duration::from_secs(30));
    assert_eq!(nightly.spec().name, "reports.nightly:v2");
    assert_eq!(nightly.spec().backoff, Backoff::Fixed { delay: Duration::from_secs(1) });
    assert_eq!(cleanup.spec().backoff, Backoff::None);
    assert_eq!(r#await.spec().name, "await");
    assert_eq!(purge.spec().cron, Some("0 3 * * *"));
    assert_eq!(report.spec().cron, Some("*/15 8-18 * JAN-jun mon-fri"));
    assert!(purge.scheduled_input().is_some());
    assert!(report.scheduled_input().is_some_and(|input| !input.full));
    assert!(tick.spec().cron.is_none() && tick.scheduled_input().is_none());
    let _ = enqueue_all;
}
