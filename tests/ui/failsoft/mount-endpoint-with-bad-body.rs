// An endpoint whose body type lacks `Deserialize`, mounted: one error, at the type.
use rampart::prelude::*;
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }


rampart::roles! { member: ["notes:write"] }

#[derive(validator::Validate, Schema)]
struct Input { title: String }

#[endpoint(post = "/notes", permission = "notes:write")]
async fn create(ctx: Ctx, Json(input): Json<Input>) -> ApiResult<Out> { let _ = (ctx, input.title); Ok(Out { ok: true }) }

fn main() {
    let _ = Api::new().mount(create);
}
