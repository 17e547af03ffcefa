// A job whose attribute has a mistake, registered and enqueued: the mistake is the one error.
use rampart::{job, Job, JobCtx, JobResult, JobSet, Jobs};

#[derive(serde::Serialize, serde::Deserialize)]
struct Welcome { email: String }

#[job(queue = "mail", timeout = "soon")]
async fn send_welcome(ctx: JobCtx, input: Welcome) -> JobResult { let _ = (ctx, input.email); Ok(()) }

async fn sign_up(jobs: &Jobs) {
    let _ = jobs.enqueue(send_welcome, Welcome { email: "a@example.com".to_owned() }).await;
    let _ = send_welcome.spec().queue;
}

fn main() {
    let _ = JobSet::new().job(send_welcome);
    let _ = sign_up;
}
