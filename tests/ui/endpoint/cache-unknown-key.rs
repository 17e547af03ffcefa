// A misspelled option of `cache(...)`.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", cache(ttl = "30s", tag = ["notes"]))]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
