// A `Path` binding whose name is not a parameter of the path.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes/{id}")]
async fn handler(Path(note_id): Path<uuid::Uuid>) -> ApiResult<Out> { let _ = note_id; Ok(Out { ok: true }) }

fn main() {}
