// `roles = []`, which names no role.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"], team_lead: ["notes:read"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", roles = [])]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
