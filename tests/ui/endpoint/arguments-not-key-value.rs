// `#[endpoint(..)]` items that are not `key = value` separated by `,`.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"], team_lead: ["notes:read"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get "/notes")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
