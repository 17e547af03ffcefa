// A body timeout without a unit.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(post = "/uploads", body_timeout = "60")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
