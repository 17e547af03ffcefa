// A job on a method.
use rampart::{job, JobCtx, JobResult};

struct Mailer;

impl Mailer {
    #[job]
    async fn send_welcome(&self, ctx: JobCtx, input: u32) -> JobResult { let _ = (ctx, input); Ok(()) }
}

fn main() {}
