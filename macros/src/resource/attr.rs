//! The grammar of `#[resource(...)]` on the struct (darling) and `#[resource(...)]` on its
//! fields (`id`, `read_only`, `internal`, `filter`, `sort`, `parent = Type`, `json`).

use darling::FromMeta;
use darling::ast::NestedMeta;
use proc_macro2::TokenStream;
use syn::{Ident, LitInt, LitStr};

/// `endpoints(path = "/projects", role = "member", rate_limit = "60/min", tag = "projects")`.
#[derive(Debug, FromMeta)]
pub(crate) struct EndpointsAttr {
    pub(crate) path: LitStr,
    pub(crate) role: Option<LitStr>,
    pub(crate) roles: Option<Vec<LitStr>>,
    pub(crate) permission: Option<LitStr>,
    pub(crate) tag: Option<LitStr>,
    pub(crate) rate_limit: Option<LitStr>,
    pub(crate) burst: Option<LitInt>,
    pub(crate) body_limit: Option<LitStr>,
}

/// The struct-level arguments, as written.
#[derive(Debug, FromMeta)]
pub(crate) struct ResourceAttr {
    pub(crate) table: LitStr,
    pub(crate) owner: Option<Ident>,
    pub(crate) version: Option<Ident>,
    pub(crate) name: Option<LitStr>,
    pub(crate) pagination: Option<LitStr>,
    pub(crate) default_sort: Option<LitStr>,
    /// `read_only_when = archived`: a `bool` field that, while true, freezes the row.
    pub(crate) read_only_when: Option<Ident>,
    pub(crate) endpoints: Option<EndpointsAttr>,
}

pub(crate) fn parse(args: TokenStream) -> darling::Result<ResourceAttr> {
    let items = NestedMeta::parse_meta_list(args)?;
    ResourceAttr::from_list(&items)
}

/// The field-level markers.
#[derive(Debug, Default)]
pub(crate) struct FieldAttr {
    pub(crate) id: bool,
    pub(crate) read_only: bool,
    pub(crate) internal: bool,
    pub(crate) filter: Option<proc_macro2::Span>,
    pub(crate) sort: Option<proc_macro2::Span>,
    pub(crate) parent: Option<syn::Path>,
    /// A JSON column (JSONB on PostgreSQL, JSON text on SQLite).
    pub(crate) json: bool,
    /// `allow_control`: the string may hold control characters (refused by default).
    pub(crate) allow_control: Option<proc_macro2::Span>,
}

pub(crate) fn parse_field(attrs: &[syn::Attribute]) -> syn::Result<FieldAttr> {
    let mut field = FieldAttr::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("resource")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("id") {
                field.id = true;
            } else if meta.path.is_ident("read_only") {
                field.read_only = true;
            } else if meta.path.is_ident("internal") {
                field.internal = true;
            } else if meta.path.is_ident("filter") {
                field.filter = Some(syn::spanned::Spanned::span(&meta.path));
            } else if meta.path.is_ident("sort") {
                field.sort = Some(syn::spanned::Spanned::span(&meta.path));
            } else if meta.path.is_ident("allow_control") {
                field.allow_control = Some(syn::spanned::Spanned::span(&meta.path));
            } else if meta.path.is_ident("parent") {
                field.parent = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("json") {
                field.json = true;
            } else {
                return Err(meta.error(
                    "unknown field marker\nhelp: use `id`, `read_only`, `internal`, `filter`, `sort`, `json`, `allow_control` or `parent = Resource`",
                ));
            }
            Ok(())
        })?;
    }
    Ok(field)
}
