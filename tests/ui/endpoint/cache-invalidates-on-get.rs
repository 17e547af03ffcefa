// `invalidates` on a GET: a read invalidates nothing.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", invalidates = ["notes"])]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
