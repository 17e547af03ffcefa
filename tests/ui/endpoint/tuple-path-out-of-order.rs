// Tuple `Path` bindings in another order than the path's parameters.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"], team_lead: ["notes:read"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/folders/{folder}/notes/{note}")]
async fn handler(Path((note, folder)): Path<(uuid::Uuid, uuid::Uuid)>) -> ApiResult<Out> {
    let _ = (note, folder);
    Ok(Out { ok: true })
}

fn main() {}
