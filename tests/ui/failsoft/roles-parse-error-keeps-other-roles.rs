// A role that does not parse: the other roles are still declared, so endpoints naming them add no error.
use rampart::prelude::*;
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }


rampart::roles! {
    member ["notes:read"],
    editor: ["notes:write"],
}

#[endpoint(get = "/notes", roles = ["editor", "admin"])]
async fn list() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {
    let _ = Api::new().mount(list);
}
