// A body limit that is not a size.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(post = "/notes", body_limit = "ten")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
