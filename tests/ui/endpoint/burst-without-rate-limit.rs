// A burst without a rate limit.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", burst = 5)]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
