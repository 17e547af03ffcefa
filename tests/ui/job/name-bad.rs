// A job name out of shape.
use rampart::{job, JobCtx, JobResult};
#[derive(serde::Serialize, serde::Deserialize)]
struct Welcome { email: String }

#[job(name = "send welcome")]
async fn send_welcome(ctx: JobCtx, input: Welcome) -> JobResult { let _ = (ctx, input.email); Ok(()) }

fn main() {}
