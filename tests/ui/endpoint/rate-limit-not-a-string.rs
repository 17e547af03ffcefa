// A rate limit written as a number, not a string.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }


#[endpoint(get = "/notes", rate_limit = 120)]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
