// An input type that is not `Send`.
use std::marker::PhantomData;
use rampart::{job, JobCtx, JobResult};

#[derive(serde::Serialize, serde::Deserialize)]
struct Welcome { email: String, #[serde(skip)] local: PhantomData<*const ()> }

#[job]
async fn send_welcome(ctx: JobCtx, input: Welcome) -> JobResult { let _ = (ctx, input.email); Ok(()) }

fn main() {}
