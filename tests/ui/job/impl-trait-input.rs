// An input that is impl Trait.
use rampart::{job, JobCtx, JobResult};
#[derive(serde::Serialize, serde::Deserialize)]
struct Welcome { email: String }

#[job]
async fn send_welcome(ctx: JobCtx, input: impl serde::Serialize + Send) -> JobResult { let _ = (ctx, input); Ok(()) }

fn main() {}
