// `cache` given a value rather than options.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", cache = "30s")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
