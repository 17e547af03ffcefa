// A scheduled job whose input has no `Default`: the scheduler could not build one.
use rampart::{job, JobCtx, JobResult};

#[derive(serde::Serialize, serde::Deserialize)]
struct Welcome { email: String }

#[job(cron = "0 3 * * *")]
async fn send_welcome(ctx: JobCtx, input: Welcome) -> JobResult { let _ = (ctx, input.email); Ok(()) }

fn main() {}
