// A derive(Schema) whose pattern does not compile, then the type used as a body: one error.
use rampart::prelude::*;

#[derive(Debug, serde::Deserialize, validator::Validate, Schema)]
pub struct Signup {
    #[schema(pattern = "(unclosed")]
    pub name: String,
}

#[derive(Debug, serde::Serialize, Schema)]
pub struct Done {
    pub ok: bool,
}

#[endpoint(post = "/signup", public)]
async fn signup(Json(input): Json<Signup>) -> ApiResult<Done> {
    Ok(Done { ok: !input.name.is_empty() })
}

fn main() {
    let _ = Api::new().mount(signup);
}
