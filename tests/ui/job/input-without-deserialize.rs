// An input type that does not derive `Deserialize`.
use rampart::{job, JobCtx, JobResult};

#[derive(serde::Serialize)]
struct Welcome { email: String }

#[job]
async fn send_welcome(ctx: JobCtx, input: Welcome) -> JobResult { let _ = (ctx, input.email); Ok(()) }

fn main() {}
