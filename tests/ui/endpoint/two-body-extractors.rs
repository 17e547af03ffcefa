// Two extractors that both read the request body.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }


#[derive(serde::Deserialize, validator::Validate, Schema)]
struct Input { title: String }

#[endpoint(post = "/notes")]
async fn handler(Json(input): Json<Input>, raw: String) -> ApiResult<Out> { let _ = (input.title, raw); Ok(Out { ok: true }) }

fn main() {}
