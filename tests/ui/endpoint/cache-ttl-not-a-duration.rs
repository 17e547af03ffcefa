// `cache(ttl)` that is not a duration.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", cache(ttl = "a while", tags = ["notes"]))]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
