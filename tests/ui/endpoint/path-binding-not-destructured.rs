// Two path parameters bound to one name, so rampart cannot check them.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/projects/{project}/notes/{id}")]
async fn handler(params: Path<(uuid::Uuid, uuid::Uuid)>) -> ApiResult<Out> { let _ = params; Ok(Out { ok: true }) }

fn main() {}
