// A return type that is not a rampart response.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/notes")]
async fn handler() -> String { String::new() }

fn main() {}
