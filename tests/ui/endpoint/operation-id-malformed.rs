// An operation id with characters outside `[A-Za-z0-9_-]`.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"], team_lead: ["notes:read"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", operation_id = "list notes")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
