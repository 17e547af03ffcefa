// A role and a permission on one endpoint.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", role = "member", permission = "notes:read")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
