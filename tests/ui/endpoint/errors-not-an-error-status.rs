// `errors` listing a success status.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", errors = [200, 409])]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
