// A misspelled option of `idempotent(...)`.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(post = "/notes", idempotent(tll = "1h"))]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
