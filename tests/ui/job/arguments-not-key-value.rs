// `#[job(..)]` items that are not `key = value` separated by `,`.
use rampart::{job, JobCtx, JobResult};

#[job(queue "mail")]
async fn send_welcome(ctx: JobCtx, input: u32) -> JobResult { let _ = (ctx, input); Ok(()) }

fn main() {}
