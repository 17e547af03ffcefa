// A role name that the crate's RBAC table does not declare.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", role = "membr")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
