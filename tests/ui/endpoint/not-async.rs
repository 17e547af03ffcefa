// An endpoint fn that is not async.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes")]
fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
