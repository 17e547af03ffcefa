// A base for a backoff that has none.
use rampart::{job, JobCtx, JobResult};
#[derive(serde::Serialize, serde::Deserialize)]
struct Welcome { email: String }

#[job(backoff = "none", backoff_base = "5s")]
async fn send_welcome(ctx: JobCtx, input: Welcome) -> JobResult { let _ = (ctx, input.email); Ok(()) }

fn main() {}
