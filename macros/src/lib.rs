//! Procedural macros of rampart. Each entry point is an adapter: parse, call the macro's own
//! `expand`, turn errors into `compile_error!` next to the user's item left intact (fail soft).
//!
//! Generated code names the runtime only through the paths in [`paths`].

use proc_macro::TokenStream;

mod endpoint;
mod grammar;
mod job;
mod paths;
mod repository;
mod resource;
mod roles;
mod schema;
#[cfg(test)]
mod snapshots;
mod util;

/// See `rampart::endpoint`.
#[proc_macro_attribute]
pub fn endpoint(args: TokenStream, item: TokenStream) -> TokenStream {
    endpoint::expand(args.into(), item.into()).into()
}

/// See `rampart::job`.
#[proc_macro_attribute]
pub fn job(args: TokenStream, item: TokenStream) -> TokenStream {
    job::expand(args.into(), item.into()).into()
}

/// See `rampart::resource`.
#[proc_macro_attribute]
pub fn resource(args: TokenStream, item: TokenStream) -> TokenStream {
    resource::expand(args.into(), item.into()).into()
}

/// See `rampart::repository`.
#[proc_macro_attribute]
pub fn repository(args: TokenStream, item: TokenStream) -> TokenStream {
    repository::expand(args.into(), item.into()).into()
}

/// See `rampart::roles`.
#[proc_macro]
pub fn roles(input: TokenStream) -> TokenStream {
    roles::expand(input.into()).into()
}

/// See `rampart::rbac`.
#[proc_macro]
pub fn rbac(input: TokenStream) -> TokenStream {
    roles::table(input.into()).into()
}

/// See `rampart::Schema`.
#[proc_macro_derive(Schema, attributes(schema))]
pub fn derive_schema(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    schema::expand(&input).into()
}
