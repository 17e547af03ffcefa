// A role requirement in a crate that has no `roles!` at its root.
use rampart::prelude::*;
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes", role = "member")]
async fn handler() -> ApiResult<Out> { Ok(Out { ok: true }) }

fn main() {}
