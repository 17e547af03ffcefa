// `public` together with a role requirement.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", public, role = "member")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
