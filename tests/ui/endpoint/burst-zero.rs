// A burst of zero.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", rate_limit = "10/min", burst = 0)]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
