// A `Json<T>` body whose `T` does not derive `Validate`.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }


#[derive(serde::Deserialize, Schema)]
struct Input { title: String }

#[endpoint(post = "/notes")]
async fn handler(Json(input): Json<Input>) -> ApiResult<Out> { let _ = input.title; Ok(Out { ok: true }) }

fn main() {}
