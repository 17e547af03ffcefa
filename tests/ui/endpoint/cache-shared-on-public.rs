// `shared` on a `public` endpoint, whose anonymous entry is shared already.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", public, cache(ttl = "30s", shared, tags = ["notes"]))]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
