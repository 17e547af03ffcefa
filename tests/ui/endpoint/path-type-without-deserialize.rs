// A `Path<T>` whose `T` does not derive `Deserialize`.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }


#[derive(Schema)]
struct NotePath { id: uuid::Uuid }

#[endpoint(get = "/notes/{id}")]
async fn handler(Path(NotePath { id }): Path<NotePath>) -> ApiResult<Out> { let _ = id; Ok(Out { ok: true }) }

fn main() {}
