// An endpoint without a method and path.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(role = "member")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
