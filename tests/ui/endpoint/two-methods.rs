// An endpoint declaring two methods.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", post = "/notes")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
