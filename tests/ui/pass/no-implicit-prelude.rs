// Generated code names everything by absolute path: it compiles without the prelude.
#![no_implicit_prelude]

::rampart::roles! { member: ["notes:read"] }

#[derive(::serde::Serialize, ::rampart::Schema)]
struct Out {
    ok: bool,
    items: ::std::vec::Vec<::std::string::String>,
}

#[::rampart::endpoint(get = "/things/{id}", permission = "notes:read")]
async fn thing(
    ::rampart::Path(id): ::rampart::Path<u32>,
    ctx: ::rampart::Ctx,
) -> ::rampart::ApiResult<Out> {
    let _ = (id, ctx);
    ::std::result::Result::Ok(Out { ok: true, items: ::std::vec::Vec::new() })
}

/// A job, expanded without the prelude too.
#[::rampart::job(queue = "mail", backoff = "fixed", unique = "1m")]
async fn ping(ctx: ::rampart::JobCtx, input: ::std::string::String) -> ::rampart::JobResult {
    let _ = (ctx, input);
    ::std::result::Result::Ok(())
}

fn main() {
    let _ = ::rampart::Api::new().mount(thing).openapi();
    let _ = ::rampart::JobSet::new().job(ping);
}
