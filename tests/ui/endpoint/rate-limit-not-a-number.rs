// A rate limit whose count is not a number.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", rate_limit = "ten/min")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
