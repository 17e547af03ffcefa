// `idempotent` on a `public` endpoint: no principal to keep the records under.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(post = "/notes", public, idempotent)]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
