// An endpoint whose body extractor is not last, mounted: one error, at the body extractor.
use rampart::prelude::*;
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }


#[derive(serde::Deserialize, validator::Validate, Schema)]
struct Input { title: String }

#[endpoint(post = "/notes")]
async fn create(Json(input): Json<Input>, ctx: Ctx) -> ApiResult<Out> { let _ = (ctx, input.title); Ok(Out { ok: true }) }

fn main() {
    let _ = Api::new().mount(create);
}
