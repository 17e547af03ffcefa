// A `Path` extractor on a path without parameters.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes")]
async fn handler(Path(id): Path<uuid::Uuid>) -> ApiResult<Out> { let _ = id; Ok(Out { ok: true }) }

fn main() {}
