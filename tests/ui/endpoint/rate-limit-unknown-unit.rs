// A rate limit with a unit that is not sec, min, hour or day.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", rate_limit = "10/minutes")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
