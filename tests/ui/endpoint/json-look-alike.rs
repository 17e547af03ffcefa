// An argument named `Json` that is not rampart's `Json` and not an extractor.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

mod wrapper {
    pub struct Json<T>(pub T);
}

#[derive(serde::Deserialize, validator::Validate, Schema)]
struct Input { title: String }

#[endpoint(post = "/notes")]
async fn handler(wrapper::Json(input): wrapper::Json<Input>) -> ApiResult<Out> { let _ = input.title; Ok(Out { ok: true }) }

fn main() {}
