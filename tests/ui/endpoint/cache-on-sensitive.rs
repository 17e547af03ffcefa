// `cache` on an endpoint whose reply carries a credential.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }

#[endpoint(get = "/token", cache(ttl = "30s", tags = []))]
async fn handler() -> Result<rampart::Sensitive<Out>, ApiError> { Ok(rampart::Sensitive(Out { ok: true })) }

fn main() {}
