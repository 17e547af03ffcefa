// `invalidates = []`, which names nothing.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(delete = "/notes", invalidates = [])]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
