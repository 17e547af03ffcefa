//! The grammar of `#[endpoint(...)]`, parsed by darling (unknown keys get a did-you-mean,
//! duplicates are reported at the second occurrence).

use darling::FromMeta;
use darling::ast::NestedMeta;
use darling::util::Flag;
use proc_macro2::TokenStream;
use syn::{LitInt, LitStr};

/// The raw arguments, exactly as written.
#[derive(Debug, FromMeta)]
pub(crate) struct EndpointAttr {
    pub(crate) get: Option<LitStr>,
    pub(crate) post: Option<LitStr>,
    pub(crate) put: Option<LitStr>,
    pub(crate) patch: Option<LitStr>,
    pub(crate) delete: Option<LitStr>,
    pub(crate) public: Flag,
    pub(crate) auth: Option<LitStr>,
    pub(crate) role: Option<LitStr>,
    pub(crate) roles: Option<Vec<LitStr>>,
    pub(crate) permission: Option<LitStr>,
    pub(crate) tag: Option<LitStr>,
    pub(crate) operation_id: Option<LitStr>,
    pub(crate) deprecated: Flag,
    pub(crate) body_limit: Option<LitStr>,
    pub(crate) timeout: Option<LitStr>,
    pub(crate) body_timeout: Option<LitStr>,
    pub(crate) errors: Option<Vec<LitInt>>,
    pub(crate) rate_limit: Option<LitStr>,
    pub(crate) burst: Option<LitInt>,
}

pub(crate) fn parse(args: TokenStream) -> darling::Result<EndpointAttr> {
    let items = NestedMeta::parse_meta_list(args)?;
    EndpointAttr::from_list(&items)
}

/// Parses options already split into items with this grammar: `#[resource(endpoints(...))]`
/// hands over every key that is an `#[endpoint]` option, so both read them with one parser.
pub(crate) fn parse_items(items: &[NestedMeta]) -> darling::Result<EndpointAttr> {
    EndpointAttr::from_list(items)
}
