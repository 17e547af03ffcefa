// A job fn whose dependency stands where its input belongs.
use rampart::{job, Dep, JobCtx, JobResult};
struct Mailer;

#[job]
async fn notify(ctx: JobCtx, mailer: Dep<Mailer>) -> JobResult {
    let _ = (ctx, mailer);
    Ok(())
}

fn main() {}
