// An authentication scheme rampart does not have (`basic`).
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", auth = "basic")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
