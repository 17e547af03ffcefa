// A cron expression with an hour out of range.
use rampart::{job, JobCtx, JobResult};

#[job(cron = "0 25 * * *")]
async fn purge(ctx: JobCtx, (): ()) -> JobResult { let _ = ctx; Ok(()) }

fn main() {}
