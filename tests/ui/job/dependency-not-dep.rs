// A job fn whose argument after the input is not a dependency (`Dep<T>`).
use rampart::{job, JobCtx, JobResult};
#[derive(serde::Serialize, serde::Deserialize)]
struct Welcome { email: String }

#[job]
async fn send_welcome(ctx: JobCtx, input: Welcome, copy: bool) -> JobResult { let _ = (ctx, input.email, copy); Ok(()) }

fn main() {}
