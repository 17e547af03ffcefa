// A job fn that forgot its `JobCtx`, registered and enqueued with its input: one error.
use rampart::{job, JobResult, JobSet, Jobs};

#[derive(serde::Serialize, serde::Deserialize)]
struct Welcome { email: String }

#[job(queue = "mail")]
async fn send_welcome(input: Welcome) -> JobResult { let _ = input.email; Ok(()) }

async fn sign_up(jobs: &Jobs) {
    let _ = jobs.enqueue(send_welcome, Welcome { email: "a@example.com".to_owned() }).await;
}

fn main() {
    let _ = JobSet::new().job(send_welcome);
    let _ = sign_up;
}
