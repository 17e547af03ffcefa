// An endpoint on a method.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

struct Notes;

impl Notes {
    #[endpoint(get = "/notes")]
    async fn handler(&self) -> ApiResult<Out> { Ok(Out { ok: true }) }
}

fn main() {}
