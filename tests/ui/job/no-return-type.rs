// A job fn without a return type.
use rampart::{job, JobCtx};
#[derive(serde::Serialize, serde::Deserialize)]
struct Welcome { email: String }

#[job]
async fn send_welcome(ctx: JobCtx, input: Welcome) { let _ = (ctx, input.email); }

fn main() {}
