// `cache(stale_if_error)` that is not a duration.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", cache(ttl = "30s", stale_if_error = "forever", tags = ["notes"]))]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
