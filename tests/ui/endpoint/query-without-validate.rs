// A `Query<T>` whose `T` does not derive `Validate`.
use rampart::prelude::*;
rampart::roles! { member: ["notes:read", "notes:write"] }
#[derive(serde::Serialize, Schema)]
struct Out { ok: bool }


#[derive(serde::Deserialize, Schema)]
struct Filter { q: Option<String> }

#[endpoint(get = "/notes")]
async fn handler(Query(filter): Query<Filter>) -> ApiResult<Out> { let _ = filter.q; Ok(Out { ok: true }) }

fn main() {}
