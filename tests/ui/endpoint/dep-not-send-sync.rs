// A dependency that cannot be shared between requests (`Dep<T>` needs `T: Send + Sync`).
use rampart::prelude::*;
rampart::roles! { member: ["notes:read"] }

#[endpoint(get = "/seen", role = "member")]
async fn seen(names: Dep<std::cell::RefCell<Vec<String>>>) -> ApiResult<NoContent> {
    let _ = names;
    Ok(NoContent)
}

fn main() {}
