// A job fn without its input.
use rampart::{job, JobCtx, JobResult};
#[derive(serde::Serialize, serde::Deserialize)]
struct Welcome { email: String }

#[job]
async fn send_welcome(ctx: JobCtx) -> JobResult { let _ = ctx; Ok(()) }

fn main() {}
