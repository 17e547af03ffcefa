// A job's dependency that cannot be shared between jobs (`Dep<T>` needs `T: Send + Sync`).
use rampart::{job, Dep, JobCtx, JobResult};

#[job]
async fn count(ctx: JobCtx, input: (), seen: Dep<std::cell::RefCell<Vec<String>>>) -> JobResult {
    let _ = (ctx, input, seen);
    Ok(())
}

fn main() {}
