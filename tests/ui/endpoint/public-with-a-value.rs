// `public` given a value, though it is a flag.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }


#[endpoint(get = "/notes", public = true)]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
