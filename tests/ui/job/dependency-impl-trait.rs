// A job's dependency written as `impl Trait`: it must name the registered type.
use rampart::{job, JobCtx, JobResult};

#[job]
async fn notify(ctx: JobCtx, input: (), mailer: impl Send) -> JobResult {
    let _ = (ctx, input, mailer);
    Ok(())
}

fn main() {}
