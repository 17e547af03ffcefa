// #[endpoint] on something that is not a fn.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes")]
struct NotAFn;

fn main() {}
