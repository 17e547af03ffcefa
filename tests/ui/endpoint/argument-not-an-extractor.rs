// An argument whose type is not an extractor.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }


#[endpoint(get = "/notes")]
async fn handler(limit: u32, ctx: Ctx) -> ApiResult<Out> { let _ = (limit, ctx); Ok(Out { ok: true }) }

fn main() {}
