// A cron expression missing its day-of-week field.
use rampart::{job, JobCtx, JobResult};

#[job(cron = "0 3 * *")]
async fn purge(ctx: JobCtx, (): ()) -> JobResult { let _ = ctx; Ok(()) }

fn main() {}
