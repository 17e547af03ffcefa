//! The grammar of `#[endpoint(...)]`: the shape of every key is checked first (`grammar`), so
//! a mistake names the key and the form it takes; darling then reads the well-formed items.

use darling::FromMeta;
use darling::ast::NestedMeta;
use darling::util::{Flag, SpannedValue};
use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;
use syn::{LitInt, LitStr, Meta};

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
    pub(crate) cache: Option<CacheAttr>,
    /// At its key, so that `invalidates` on a read is reported there; its list is spanned so
    /// that `invalidates = []` is reported at its `[]`.
    pub(crate) invalidates: Option<AtKey<SpannedValue<Vec<LitStr>>>>,
}

/// A value with the span of its key, for the errors about where the key may go.
#[derive(Debug)]
pub(crate) struct AtKey<T> {
    pub(crate) key: Span,
    pub(crate) value: T,
}

impl<T: FromMeta> FromMeta for AtKey<T> {
    fn from_meta(item: &Meta) -> darling::Result<Self> {
        Ok(Self {
            key: item.path().span(),
            value: T::from_meta(item)?,
        })
    }
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

/// `cache(ttl = "30s", shared, stale_if_error = "2m", tags = ["projects"])`, as written: the
/// values are read by the check (`check::cache`).
#[derive(Debug)]
pub(crate) struct CacheAttr {
    /// The `cache` key: a `cache` where it cannot go is reported there.
    pub(crate) key: Span,
    pub(crate) ttl: LitStr,
    pub(crate) shared: Flag,
    pub(crate) stale_if_error: Option<LitStr>,
    pub(crate) tags: Vec<LitStr>,
}

#[derive(Debug, FromMeta)]
struct CacheOptions {
    ttl: Option<LitStr>,
    shared: Flag,
    stale_if_error: Option<LitStr>,
    tags: Option<Vec<LitStr>>,
}

const CACHE_KEYS: &[Key] = &[
    key(
        "ttl",
        Shape::Str,
        "a duration as a string like \"30s\"",
        "ttl = \"30s\"",
    ),
    key("shared", Shape::Flag, "no value (it is a flag)", "shared"),
    key(
        "stale_if_error",
        Shape::Str,
        "a duration as a string like \"5m\"",
        "stale_if_error = \"5m\"",
    ),
    key(
        "tags",
        Shape::StrList,
        "a list of tags (table names)",
        "tags = [\"projects\"]",
    ),
];

impl FromMeta for CacheAttr {
    fn from_meta(item: &Meta) -> darling::Result<Self> {
        let key = item.path().span();
        // `check_keys` let only a list through (`Shape::List`).
        let Meta::List(list) = item else {
            return Err(darling::Error::custom(
                "`cache` takes options\nhelp: write `cache(ttl = \"30s\", tags = [\"projects\"])`",
            )
            .with_span(&key));
        };
        let items = NestedMeta::parse_meta_list(list.tokens.clone())?;
        let mut errors = darling::Error::accumulator();
        let items = check_keys(items, CACHE_KEYS, "`cache(...)`", &mut errors);
        let options = errors.handle(CacheOptions::from_list(&items));
        errors.finish()?;
        let Some(options) = options else {
            return Err(darling::Error::custom("the options did not parse").with_span(&key));
        };
        // A key written wrong has had its error above; a key left out is reported here.
        let missing = |message: &str| Err(darling::Error::custom(message).with_span(&key));
        match (options.ttl, options.tags) {
            (Some(ttl), Some(tags)) => Ok(Self {
                key,
                ttl,
                shared: options.shared,
                stale_if_error: options.stale_if_error,
                tags,
            }),
            (None, None) => missing(
                "`cache` needs a `ttl` and `tags = [..]`\nhelp: write e.g. `cache(ttl = \"30s\", tags = [\"projects\"])`",
            ),
            (None, Some(_)) => missing(
                "`cache` needs a `ttl`: how long an entry answers without running the handler\nhelp: add e.g. `ttl = \"30s\"`",
            ),
            (Some(_), None) => missing(
                "`cache` needs `tags = [..]`: the resources (table names) whose writes make an entry stale\nhelp: e.g. `tags = [\"projects\"]`; `tags = []` when only the time to live ends an entry",
            ),
        }
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
    key(
        "cache",
        Shape::List,
        "options: a `ttl` and `tags`",
        "cache(ttl = \"30s\", tags = [\"projects\"])",
    ),
    key(
        "invalidates",
        Shape::StrList,
        "a list of tags (table names)",
        "invalidates = [\"projects\"]",
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
