// A path template in the old `:id` syntax.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes/:id")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
