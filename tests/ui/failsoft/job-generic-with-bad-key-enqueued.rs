// Two independent mistakes (an unknown key, a generic fn): both reported, and using the job
// adds nothing.
use rampart::{job, JobCtx, JobResult, JobSet, Jobs};

#[derive(serde::Serialize, serde::Deserialize)]
struct Welcome { email: String }

#[job(retires = 3)]
async fn send_welcome<M>(ctx: JobCtx, input: Welcome) -> JobResult { let _ = (ctx, input.email); Ok(()) }

async fn sign_up(jobs: &Jobs) {
    let _ = jobs.enqueue(send_welcome, Welcome { email: "a@example.com".to_owned() }).await;
}

fn main() {
    let _ = JobSet::new().job(send_welcome);
    let _ = sign_up;
}
