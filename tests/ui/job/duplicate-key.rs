// The same key twice.
use rampart::{job, JobCtx, JobResult};
#[derive(serde::Serialize, serde::Deserialize)]
struct Welcome { email: String }

#[job(queue = "mail", queue = "other")]
async fn send_welcome(ctx: JobCtx, input: Welcome) -> JobResult { let _ = (ctx, input.email); Ok(()) }

fn main() {}
