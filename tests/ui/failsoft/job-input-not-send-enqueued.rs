// A job whose input is not `Send`, registered and enqueued: one error, at the input type.
use std::marker::PhantomData;
use rampart::{job, JobCtx, JobResult, JobSet, Jobs};

#[derive(serde::Serialize, serde::Deserialize)]
struct Welcome { email: String, #[serde(skip)] local: PhantomData<*const ()> }

#[job(queue = "mail")]
async fn send_welcome(ctx: JobCtx, input: Welcome) -> JobResult { let _ = (ctx, input.email); Ok(()) }

async fn sign_up(jobs: &Jobs) {
    let _ = jobs.enqueue(send_welcome, Welcome { email: "a@example.com".to_owned(), local: PhantomData }).await;
}

fn main() {
    let _ = JobSet::new().job(send_welcome);
    let _ = sign_up;
}
