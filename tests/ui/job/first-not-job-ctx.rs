// A first argument that is not the JobCtx.
use rampart::{job, JobResult};
#[derive(serde::Serialize, serde::Deserialize)]
struct Welcome { email: String }

#[job]
async fn send_welcome(ctx: String, input: Welcome) -> JobResult { let _ = (ctx, input.email); Ok(()) }

fn main() {}
