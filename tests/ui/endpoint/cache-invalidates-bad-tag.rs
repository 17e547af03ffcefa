// `invalidates` with a tag that is not `[a-z0-9_.:-]+`.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(post = "/notes", invalidates = ["my notes"])]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
