// Several mistakes in one attribute: each is reported, and the fn itself adds no error.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes/:id", body_limit = "ten", timeout = "soon")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
