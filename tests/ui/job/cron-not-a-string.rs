// A cron expression that is not a string.
use rampart::{job, JobCtx, JobResult};

#[job(cron = 3)]
async fn purge(ctx: JobCtx, (): ()) -> JobResult { let _ = ctx; Ok(()) }

fn main() {}
