// Two independent mistakes (an unknown key, a generic fn): both reported, and mounting adds nothing.
use rampart::prelude::*;
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }


#[endpoint(get = "/notes", tga = "notes")]
async fn list<T>() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {
    let _ = Api::new().mount(list);
}
