// A rate limit of zero requests.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", rate_limit = "0/min")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
