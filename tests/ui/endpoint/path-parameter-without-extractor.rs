// A path parameter that no `Path` extractor binds.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes/{id}")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
