// An endpoint whose attribute has a mistake, mounted: the mistake is the one error.
use rampart::prelude::*;
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }


rampart::roles! { member: ["notes:read"] }

#[endpoint(get = "/notes", role = "member", timeout = "soon")]
async fn list() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {
    let _ = Api::new().mount(list).mount(list);
}
