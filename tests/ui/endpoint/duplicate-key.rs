// The same key twice.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", tag = "notes", tag = "other")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
