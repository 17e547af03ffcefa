//! The grammar of `#[endpoint(...)]`: the shape of every key is checked first (`grammar`), so
//! a mistake names the key and the form it takes; darling then reads the well-formed items.

use darling::FromMeta;
use darling::ast::NestedMeta;
use darling::util::{Flag, SpannedValue};
use proc_macro2::TokenStream;
use syn::{LitInt, LitStr};

use crate::grammar::{Key, Shape, check_keys, key};

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
    /// Spanned so that `roles = []` is reported at its `[]`.
    pub(crate) roles: Option<SpannedValue<Vec<LitStr>>>,
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
    /// Spanned so that a misplaced `idempotent` is reported at the key.
    pub(crate) idempotent: Option<SpannedValue<IdempotentAttr>>,
}

/// `idempotent` or `idempotent(ttl = "1h")`.
#[derive(Debug, Default)]
pub(crate) struct IdempotentAttr {
    pub(crate) ttl: Option<LitStr>,
}

#[derive(Debug, FromMeta)]
struct IdempotentOptions {
    ttl: Option<LitStr>,
}

const IDEMPOTENT_KEYS: &[Key] = &[key(
    "ttl",
    Shape::Str,
    "a duration as a string like \"24h\"",
    "ttl = \"24h\"",
)];

impl FromMeta for IdempotentAttr {
    fn from_word() -> darling::Result<Self> {
        Ok(Self::default())
    }

    fn from_list(items: &[NestedMeta]) -> darling::Result<Self> {
        let mut errors = darling::Error::accumulator();
        let items = check_keys(
            items.to_vec(),
            IDEMPOTENT_KEYS,
            "`idempotent(...)`",
            &mut errors,
        );
        let options = errors.handle(IdempotentOptions::from_list(&items));
        errors.finish_with(())?;
        Ok(Self {
            ttl: options.and_then(|options| options.ttl),
        })
    }
}

const PATH: &str = "a path template like \"/tasks/{id}\"";

/// Every key of `EndpointAttr`, in the order the docs list them.
const KEYS: &[Key] = &[
    key("get", Shape::Str, PATH, "get = \"/tasks/{id}\""),
    key("post", Shape::Str, PATH, "post = \"/tasks\""),
    key("put", Shape::Str, PATH, "put = \"/tasks/{id}\""),
    key("patch", Shape::Str, PATH, "patch = \"/tasks/{id}\""),
    key("delete", Shape::Str, PATH, "delete = \"/tasks/{id}\""),
    key("public", Shape::Flag, "no value (it is a flag)", "public"),
    key(
        "auth",
        Shape::Str,
        "a scheme: \"jwt\" or \"api_key\"",
        "auth = \"jwt\"",
    ),
    key(
        "role",
        Shape::Str,
        "a role name as a string",
        "role = \"member\"",
    ),
    key(
        "roles",
        Shape::StrList,
        "a list of role names",
        "roles = [\"member\", \"editor\"]",
    ),
    key(
        "permission",
        Shape::Str,
        "a permission as a string",
        "permission = \"tasks:write\"",
    ),
    key("tag", Shape::Str, "a string", "tag = \"tasks\""),
    key(
        "operation_id",
        Shape::Str,
        "a string",
        "operation_id = \"getTask\"",
    ),
    key(
        "deprecated",
        Shape::Flag,
        "no value (it is a flag)",
        "deprecated",
    ),
    key(
        "body_limit",
        Shape::Str,
        "a size as a string like \"64KiB\"",
        "body_limit = \"64KiB\"",
    ),
    key(
        "timeout",
        Shape::Str,
        "a duration as a string like \"5s\"",
        "timeout = \"5s\"",
    ),
    key(
        "body_timeout",
        Shape::Str,
        "a duration as a string like \"30s\"",
        "body_timeout = \"30s\"",
    ),
    key(
        "errors",
        Shape::IntList,
        "a list of HTTP statuses",
        "errors = [409, 422]",
    ),
    key(
        "rate_limit",
        Shape::Str,
        "a string like \"120/min\"",
        "rate_limit = \"120/min\"",
    ),
    key("burst", Shape::Int, "a number of requests", "burst = 20"),
    key(
        "idempotent",
        Shape::FlagOrList,
        "no value, or options like `(ttl = \"24h\")`",
        "idempotent",
    ),
];

pub(crate) fn parse(args: TokenStream) -> darling::Result<EndpointAttr> {
    let items = NestedMeta::parse_meta_list(args).map_err(|error| {
        syn::Error::new(
            error.span(),
            format!("{error}: `#[endpoint]` takes `key = value` items separated by `,`\nhelp: e.g. `#[endpoint(get = \"/tasks/{{id}}\", role = \"member\")]`"),
        )
    })?;
    let mut errors = darling::Error::accumulator();
    let items = check_keys(items, KEYS, "`#[endpoint]`", &mut errors);
    let attr = errors.handle(EndpointAttr::from_list(&items));
    errors.finish_with(())?;
    attr.ok_or_else(|| darling::Error::custom("the attribute did not parse"))
}

/// Parses options already split into items with this grammar: `#[resource(endpoints(...))]`
/// hands over every key that is an `#[endpoint]` option, so both read them with one parser
/// (shapes and repeats included).
pub(crate) fn parse_items(items: &[NestedMeta]) -> darling::Result<EndpointAttr> {
    let mut errors = darling::Error::accumulator();
    let items = check_keys(items.to_vec(), KEYS, "`endpoints(...)`", &mut errors);
    let attr = errors.handle(EndpointAttr::from_list(&items));
    errors.finish_with(())?;
    attr.ok_or_else(|| darling::Error::custom("the options did not parse"))
}
