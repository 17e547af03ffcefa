// `roles` given one string instead of a list.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }


#[endpoint(get = "/notes", roles = "member")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
