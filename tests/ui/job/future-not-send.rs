// A job whose body holds a value that is not `Send` across an `.await`.
use std::rc::Rc;
use rampart::{job, JobCtx, JobResult};

#[job]
async fn count(ctx: JobCtx, input: u32) -> JobResult {
    let local = Rc::new(input);
    std::future::ready(()).await;
    let _ = ctx;
    let _ = local;
    Ok(())
}

fn main() {}
