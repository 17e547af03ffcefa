// A job fn without its JobCtx.
use rampart::{job, JobResult};
#[derive(serde::Serialize, serde::Deserialize)]
struct Welcome { email: String }

#[job]
async fn send_welcome(input: Welcome) -> JobResult { let _ = input.email; Ok(()) }

fn main() {}
