// `auth = "api_key"` before API keys exist.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", auth = "api_key")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
