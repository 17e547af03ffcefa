// A job fn returning something else.
use rampart::{job, JobCtx};
#[derive(serde::Serialize, serde::Deserialize)]
struct Welcome { email: String }

#[job]
async fn send_welcome(ctx: JobCtx, input: Welcome) -> Result<(), String> { let _ = (ctx, input.email); Ok(()) }

fn main() {}
