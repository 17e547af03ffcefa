// `cache` on a POST: a write's answer is not kept.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(post = "/notes", cache(ttl = "30s", tags = ["notes"]))]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
