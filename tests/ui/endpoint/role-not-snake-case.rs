// A role name that is not snake_case.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"], team_lead: ["notes:read"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", role = "TeamLead")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
