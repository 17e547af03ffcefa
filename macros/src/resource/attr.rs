//! The grammar of `#[resource(...)]` on the struct (darling), of `endpoints(...)` inside it
//! (its own `path`, then `#[endpoint]`'s options through `#[endpoint]`'s parser) and of
//! `#[resource(...)]` on its fields (`id`, `read_only`, `internal`, `filter`, `sort`,
//! `parent = Type`, `json`, `allow_control`).

use darling::ast::NestedMeta;
use darling::{Error, FromMeta};
use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;
use syn::{Ident, LitStr};

use crate::endpoint::attr::{EndpointAttr, parse_items};
use crate::grammar::{Key, Shape, bare_literal, check_keys, given_twice, key, unknown_key};

/// `endpoints(...)` as written; parsed on its own (see [`parse_endpoints`]) so that a mistake
/// in it leaves the rest of the declaration known to the fail-soft expansion.
#[derive(Debug)]
pub(crate) struct RawEndpoints(pub(crate) syn::Meta);

impl FromMeta for RawEndpoints {
    fn from_meta(item: &syn::Meta) -> darling::Result<Self> {
        Ok(Self(item.clone()))
    }
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
    /// `cascades = ["exports"]`: the tables a write to this one changes in the database
    /// (`ON DELETE CASCADE`, triggers), spanned so that `cascades = []` is reported there.
    pub(crate) cascades: Option<darling::util::SpannedValue<Vec<LitStr>>>,
    pub(crate) endpoints: Option<RawEndpoints>,
}

/// Every key of `ResourceAttr`, in the order the docs list them.
const KEYS: &[Key] = &[
    key(
        "table",
        Shape::Str,
        "a table name as a string",
        "table = \"notes\"",
    ),
    key(
        "owner",
        Shape::Ident,
        "the name of the owner field",
        "owner = owner_id",
    ),
    key(
        "version",
        Shape::Ident,
        "the name of the version field",
        "version = version",
    ),
    key(
        "name",
        Shape::Str,
        "the resource's name as a string",
        "name = \"note\"",
    ),
    key(
        "pagination",
        Shape::Str,
        "\"offset\" or \"cursor\"",
        "pagination = \"offset\"",
    ),
    key(
        "default_sort",
        Shape::Str,
        "a sort field as a string like \"-created_at\"",
        "default_sort = \"-created_at\"",
    ),
    key(
        "read_only_when",
        Shape::Ident,
        "the name of a `bool` field",
        "read_only_when = archived",
    ),
    key(
        "cascades",
        Shape::StrList,
        "a list of table names as strings",
        "cascades = [\"exports\"]",
    ),
    key(
        "endpoints",
        Shape::List,
        "options in parentheses",
        "endpoints(path = \"/notes\")",
    ),
];

pub(crate) fn parse(args: TokenStream) -> darling::Result<ResourceAttr> {
    let items = NestedMeta::parse_meta_list(args)?;
    let mut errors = Error::accumulator();
    let items = check_keys(items, KEYS, "`#[resource]`", &mut errors);
    // A refused item may be the `table` (misspelt, say): its error is the one reported.
    errors.finish()?;
    if !items
        .iter()
        .any(|item| key_of(item).is_some_and(|key| key.is_ident("table")))
    {
        return Err(Error::custom(
            "`#[resource]` needs a `table`\nhelp: add e.g. `table = \"notes\"`",
        ));
    }
    ResourceAttr::from_list(&items)
}

/// The `#[endpoint]` options `endpoints(...)` takes, applied to the six endpoints (the body
/// ones only to create, replace and patch; `public` only to list and get).
pub(crate) const OPTIONS: &[&str] = &[
    "path",
    "public",
    "cache",
    "auth",
    "role",
    "roles",
    "permission",
    "tag",
    "deprecated",
    "timeout",
    "body_limit",
    "body_timeout",
    "rate_limit",
    "burst",
];

/// `endpoints(...)`'s own key.
const PATH_KEY: &[Key] = &[key(
    "path",
    Shape::Str,
    "the collection's path as a string like \"/notes\"",
    "path = \"/notes\"",
)];

/// Options that concern a request body: only the endpoints that read one get them.
const BODY_OPTIONS: &[&str] = &["body_limit", "body_timeout"];

/// `#[endpoint]` keys that each generated endpoint sets itself, with the reason.
const SET_PER_ENDPOINT: &[(&str, &str)] = &[
    ("get", "method"),
    ("post", "method"),
    ("put", "method"),
    ("patch", "method"),
    ("delete", "method"),
    ("operation_id", "operation_id"),
    ("errors", "errors"),
];

/// `#[endpoint]` keys the generated endpoints do not take: their writes make their table's
/// tag stale on their own.
const NOT_FOR_GENERATED: &[&str] = &["invalidates"];

fn not_for_generated(key: &str, span: Span) -> Error {
    Error::custom(format!("`{key}` is not needed on the generated endpoints: their writes make their table's tag stale on their own\nhelp: remove it; to make other tags stale, declare a hand-written write with `{key} = [..]`")).with_span(&span)
}

/// `cache(..)` for the generated list and get, with the resource's table among its tags (the
/// generated writes bump it), added when the declaration does not name it.
fn with_table_tag(item: NestedMeta, table: &LitStr) -> NestedMeta {
    let NestedMeta::Meta(syn::Meta::List(list)) = &item else {
        return item;
    };
    let Ok(options) = list.parse_args_with(
        syn::punctuated::Punctuated::<NestedMeta, syn::Token![,]>::parse_terminated,
    ) else {
        return item;
    };
    let table = LitStr::new(&table.value(), list.path.span());
    let mut tagged = false;
    let options: Vec<proc_macro2::TokenStream> = options
        .into_iter()
        .map(|option| match &option {
            NestedMeta::Meta(syn::Meta::NameValue(pair)) if pair.path.is_ident("tags") => {
                tagged = true;
                match &pair.value {
                    syn::Expr::Array(array) => {
                        let mut tags: Vec<&syn::Expr> = array.elems.iter().collect();
                        let table_expr: syn::Expr = syn::parse_quote!(#table);
                        let named = array.elems.iter().any(|tag| {
                            matches!(tag, syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(lit), .. }) if lit.value() == table.value())
                        });
                        if !named {
                            tags.push(&table_expr);
                        }
                        let path = &pair.path;
                        quote::quote!(#path = [#(#tags),*])
                    }
                    // Not a list: `#[endpoint]`'s grammar reports it.
                    _ => quote::quote!(#option),
                }
            }
            _ => quote::quote!(#option),
        })
        .collect();
    let path = &list.path;
    let tags = (!tagged).then(|| quote::quote!(, tags = [#table]));
    syn::parse_quote!(#path(#(#options),* #tags))
}

/// `endpoints(...)` parsed: the path and the options as written, sorted by the endpoints they
/// go to (the options as `#[endpoint]` reads them come next to it, for checking).
pub(crate) struct EndpointsDecl {
    pub(crate) keyword: Span,
    pub(crate) path: LitStr,
    /// `public`, for list and get.
    pub(crate) public: Option<NestedMeta>,
    /// `cache(..)`, for list and get, with the table among its tags.
    pub(crate) cache: Option<NestedMeta>,
    /// `body_limit`, `body_timeout`, for create, replace and patch.
    pub(crate) body: Vec<NestedMeta>,
    /// Everything else, for all six.
    pub(crate) shared: Vec<NestedMeta>,
}

fn key_of(item: &NestedMeta) -> Option<&syn::Path> {
    match item {
        NestedMeta::Meta(meta) => Some(meta.path()),
        NestedMeta::Lit(_) => None,
    }
}

fn misplaced_key(key: &str, span: Span) -> Error {
    let message = match key {
        "operation_id" => "`operation_id` is set by each generated endpoint (`list_notes`, `get_note`, ...)\nhelp: remove it; write an `#[endpoint]` by hand for an operation of your own".to_owned(),
        "errors" => "`errors` is set by each generated endpoint (409 on writes, 412 with a version, 422 on create)\nhelp: remove it".to_owned(),
        method => format!("`{method}` is set by each generated endpoint: the six methods share `path`\nhelp: write `path = \"/notes\"`; the item endpoints add `/{{id}}`"),
    };
    Error::custom(message).with_span(&span)
}

/// Parses `endpoints(path = "/notes", ...)`: `path` is this macro's, every other key goes to
/// `#[endpoint]`'s parser, so values, duplicates and types are read exactly as there.
pub(crate) fn parse_endpoints(
    raw: &RawEndpoints,
    table: &LitStr,
) -> darling::Result<(EndpointsDecl, EndpointAttr)> {
    let keyword = raw.0.path().span();
    let list = raw.0.require_list().map_err(|_| {
        Error::custom("`endpoints` takes options\nhelp: write `endpoints(path = \"/notes\")`")
            .with_span(&keyword)
    })?;
    let items = NestedMeta::parse_meta_list(list.tokens.clone())?;
    let mut errors = Error::accumulator();
    let (mut path, mut public, mut body, mut shared) = (None, None, Vec::new(), Vec::new());
    let mut cache = None;
    // A `path` written wrong (or not at all, where a method key or a bare literal stands in
    // its place) already has its error: `needs a path` would be a second one.
    let mut path_reported = false;
    for item in items {
        let Some(key_path) = key_of(&item).cloned() else {
            path_reported = true;
            errors.push(bare_literal(&item, "`endpoints(...)`", "path = \"/notes\""));
            continue;
        };
        let key = (key_path.span(), key_path.get_ident().map(Ident::to_string));
        match key {
            (_, Some(name)) if name == "path" => {
                path_reported = true;
                if path.is_some() {
                    errors.push(given_twice(&key_path));
                } else if let [item] =
                    check_keys(vec![item], PATH_KEY, "`endpoints(...)`", &mut errors).as_slice()
                {
                    path = errors.handle(LitStr::from_nested_meta(item));
                }
            }
            (span, Some(name)) if SET_PER_ENDPOINT.iter().any(|(key, _)| *key == name) => {
                // A method key is where the path went: its help names `path`, enough.
                path_reported |= !matches!(name.as_str(), "operation_id" | "errors");
                errors.push(misplaced_key(&name, span));
            }
            (span, Some(name)) if NOT_FOR_GENERATED.contains(&name.as_str()) => {
                errors.push(not_for_generated(&name, span));
            }
            (_, Some(name)) if name == "public" => public = Some(item),
            (_, Some(name)) if name == "cache" => cache = Some(with_table_tag(item, table)),
            (_, Some(name)) if BODY_OPTIONS.contains(&name.as_str()) => body.push(item),
            (_, Some(name)) if OPTIONS.contains(&name.as_str()) => shared.push(item),
            _ => errors.push(unknown_key(&key_path, OPTIONS, "`endpoints(...)`")),
        }
    }
    // Every option at once, through `#[endpoint]`'s grammar.
    let all: Vec<NestedMeta> = public
        .iter()
        .chain(&cache)
        .chain(&body)
        .chain(&shared)
        .cloned()
        .collect();
    let options = errors.handle(parse_items(&all));
    if path.is_none() && !path_reported {
        errors.push(
            Error::custom("`endpoints(...)` needs a `path`\nhelp: add e.g. `path = \"/notes\"`")
                .with_span(&keyword),
        );
    }
    errors.finish()?;
    match (path, options) {
        (Some(path), Some(options)) => Ok((
            EndpointsDecl {
                keyword,
                path,
                public,
                cache,
                body,
                shared,
            },
            options,
        )),
        _ => Err(Error::custom("`endpoints(...)` needs a `path`").with_span(&keyword)),
    }
}

/// The field-level markers, each with the span of its key (errors point at the marker).
#[derive(Debug, Default)]
pub(crate) struct FieldAttr {
    pub(crate) id: Option<Span>,
    pub(crate) read_only: bool,
    pub(crate) internal: bool,
    pub(crate) filter: Option<Span>,
    pub(crate) sort: Option<Span>,
    pub(crate) parent: Option<(Span, syn::Path)>,
    /// A JSON column (JSONB on PostgreSQL, JSON text on SQLite).
    pub(crate) json: bool,
    /// `allow_control`: the string may hold control characters (refused by default).
    pub(crate) allow_control: Option<Span>,
}

pub(crate) fn parse_field(attrs: &[syn::Attribute]) -> syn::Result<FieldAttr> {
    let mut field = FieldAttr::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("resource")) {
        attr.parse_nested_meta(|meta| {
            let span = meta.path.span();
            if meta.path.is_ident("id") {
                field.id = Some(span);
            } else if meta.path.is_ident("read_only") {
                field.read_only = true;
            } else if meta.path.is_ident("internal") {
                field.internal = true;
            } else if meta.path.is_ident("filter") {
                field.filter = Some(span);
            } else if meta.path.is_ident("sort") {
                field.sort = Some(span);
            } else if meta.path.is_ident("allow_control") {
                field.allow_control = Some(span);
            } else if meta.path.is_ident("parent") {
                field.parent = Some((span, meta.value()?.parse()?));
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
