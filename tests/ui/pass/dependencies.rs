// `Dep<T>` arguments: generated code names everything by absolute path (no prelude), and
// records the dependency so a missing registration stops `into_router`.
#![no_implicit_prelude]

::rampart::roles! { member: ["notes:read"] }

#[derive(::serde::Serialize, ::rampart::Schema)]
struct Out {
    text: ::std::string::String,
}

struct Greeter(&'static str);
struct Clock;

/// rampart's `Dep` under another name: found by the probe, not by its spelling.
type Ticking = ::rampart::Dep<Clock>;

#[::rampart::endpoint(get = "/greeting", role = "member")]
async fn greeting(
    greeter: ::rampart::Dep<Greeter>,
    ctx: ::rampart::Ctx,
) -> ::rampart::ApiResult<Out> {
    let _ = ctx;
    ::std::result::Result::Ok(Out { text: ::std::string::ToString::to_string(greeter.0) })
}

#[::rampart::endpoint(get = "/time", role = "member")]
async fn time(clock: Ticking) -> ::rampart::ApiResult<::rampart::NoContent> {
    let _ = clock;
    ::std::result::Result::Ok(::rampart::NoContent)
}

fn main() {
    use ::std::iter::Iterator as _;
    let api = ::rampart::Api::new().mount(greeting);
    let needed: ::std::vec::Vec<_> = api
        .endpoints()
        .iter()
        .flat_map(|(_, def)| def.dependencies())
        .map(|key| key.type_name())
        .collect();
    ::std::assert!(needed.len() == 1 && needed[0].ends_with("::Greeter"), "{needed:?}");
    let api = ::rampart::Api::new().mount(time);
    let needed: ::std::vec::Vec<_> = api
        .endpoints()
        .iter()
        .flat_map(|(_, def)| def.dependencies())
        .map(|key| key.type_name())
        .collect();
    ::std::assert!(needed.len() == 1 && needed[0].ends_with("::Clock"), "{needed:?}");
}
