// An input type that does not derive `Serialize`.
use rampart::{job, JobCtx, JobResult};

#[derive(serde::Deserialize)]
struct Welcome { email: String }

#[job]
async fn send_welcome(ctx: JobCtx, input: Welcome) -> JobResult { let _ = (ctx, input.email); Ok(()) }

fn main() {}
