// A permission that no role of the RBAC table grants.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(delete = "/notes", permission = "notes:delete")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
