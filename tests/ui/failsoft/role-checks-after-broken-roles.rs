// A `roles!` with one bad permission: the roles and permissions that parsed still exist, so the endpoints that name them add no error.
use rampart::prelude::*;
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }


rampart::roles! {
    member: ["notes:read", "notes"],
    editor: ["notes:write"],
}

#[endpoint(get = "/notes", role = "member")]
async fn list() -> ApiResult<Out> { Ok(Out { ok: true }) }

#[endpoint(post = "/notes", permission = "notes:write")]
async fn create() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {
    let _ = rampart::rbac!();
    let _ = Api::new().mount(list).mount(create);
}
