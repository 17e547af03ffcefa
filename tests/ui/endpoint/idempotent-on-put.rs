// `idempotent` on a PUT, which is idempotent by its method.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(put = "/notes", idempotent)]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
