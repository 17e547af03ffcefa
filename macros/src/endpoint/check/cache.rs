//! `cache(..)` and `invalidates = [..]`: a cache only on reads (GET), never of a reply that
//! carries a credential (`Sensitive<T>`), `shared` only where an entry is not shared already
//! (not `public`); `invalidates` only on writes. Durations in the grammar configuration reads
//! too; tags are table names and the like, `[a-z0-9_.:-]+`.

use darling::Error;
use darling::error::Accumulator;
use proc_macro2::Span;
use syn::{GenericArgument, LitStr, PathArguments, ReturnType, Type};

use super::Method;
use super::limits::parse_duration_or_zero_ms;
use crate::endpoint::attr::EndpointAttr;

/// The bounds of `ttl` (1s..=1d) and of `stale_if_error` (0s..=1d).
const MIN_TTL_MS: u64 = 1000;
const MAX_MS: u64 = 86_400 * 1000;
/// The longest tag.
const MAX_TAG_LEN: usize = 64;

/// `cache(..)` as the definition holds it.
pub(crate) struct Cache {
    pub(crate) ttl_ms: u64,
    pub(crate) shared: bool,
    /// `None`: `CachePolicy::DEFAULT_STALE_IF_ERROR`.
    pub(crate) stale_if_error_ms: Option<u64>,
    pub(crate) tags: Vec<String>,
}

/// Why `tag` is not a tag, if it is not.
fn tag_mistake(tag: &str) -> Option<&'static str> {
    if tag.is_empty() {
        Some("a tag cannot be empty")
    } else if tag.len() > MAX_TAG_LEN {
        Some("a tag is at most 64 characters")
    } else if !tag
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | ':' | '-'))
    {
        Some("a tag is `[a-z0-9_.:-]+`")
    } else {
        None
    }
}

/// Checks a list of tags (`tags` of `cache`, or `invalidates`): each well formed, none twice.
fn tags(list: &[LitStr], key: &str, errors: &mut Accumulator) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for lit in list {
        let tag = lit.value();
        if let Some(mistake) = tag_mistake(&tag) {
            errors.push(
                Error::custom(format!(
                    "`{tag}` is not a tag: {mistake}\nhelp: name the resource whose writes it stands for, as its table is named, e.g. `{key} = [\"projects\"]`"
                ))
                .with_span(lit),
            );
        } else if seen.contains(&tag) {
            errors.push(
                Error::custom(format!(
                    "tag `{tag}` is given twice\nhelp: keep one `\"{tag}\"`"
                ))
                .with_span(lit),
            );
        } else {
            seen.push(tag);
        }
    }
    seen
}

/// Checks a list of tables whose cached reads a write makes stale (`cascades` on a resource,
/// `invalidates` on a `#[query]` write): not empty, each a tag, none twice.
pub(crate) fn table_list(
    list: &darling::util::SpannedValue<Vec<LitStr>>,
    key: &str,
    errors: &mut Accumulator,
) -> Vec<String> {
    if list.is_empty() {
        errors.push(
            Error::custom(format!(
                "`{key} = []` names no table\nhelp: list the tables, e.g. `{key} = [\"exports\"]`, or remove `{key}`"
            ))
            .with_span(&list.span()),
        );
    }
    tags(list, key, errors)
}

/// The first `Sensitive` segment anywhere in `ty` (`ApiResult<Sensitive<Token>>`,
/// `Result<Sensitive<X>, ApiError>`, `(Sensitive<X>, Y)`).
fn sensitive_segment(ty: &Type) -> Option<Span> {
    match ty {
        Type::Path(path) => {
            let qself = path
                .qself
                .as_ref()
                .and_then(|qself| sensitive_segment(&qself.ty));
            qself.or_else(|| {
                path.path.segments.iter().find_map(|segment| {
                    if segment.ident == "Sensitive" {
                        return Some(segment.ident.span());
                    }
                    let PathArguments::AngleBracketed(arguments) = &segment.arguments else {
                        return None;
                    };
                    arguments.args.iter().find_map(|argument| match argument {
                        GenericArgument::Type(ty) => sensitive_segment(ty),
                        GenericArgument::AssocType(assoc) => sensitive_segment(&assoc.ty),
                        _ => None,
                    })
                })
            })
        }
        Type::Tuple(tuple) => tuple.elems.iter().find_map(sensitive_segment),
        Type::Paren(inner) => sensitive_segment(&inner.elem),
        Type::Group(inner) => sensitive_segment(&inner.elem),
        Type::Reference(inner) => sensitive_segment(&inner.elem),
        Type::Array(inner) => sensitive_segment(&inner.elem),
        Type::Slice(inner) => sensitive_segment(&inner.elem),
        _ => None,
    }
}

/// A duration within `min_ms..=MAX_MS`, else an error at its literal.
fn duration(lit: &LitStr, min_ms: u64, bounds: &str, errors: &mut Accumulator) -> Option<u64> {
    let parsed =
        parse_duration_or_zero_ms(&lit.value()).filter(|ms| (min_ms..=MAX_MS).contains(ms));
    if parsed.is_none() {
        errors.push(
            Error::custom(format!(
                "`{}` is not a duration between {bounds}\nhelp: write a duration such as \"30s\", \"5m\" or \"1h\"",
                lit.value()
            ))
            .with_span(lit),
        );
    }
    parsed
}

/// `None`: not cached.
pub(super) fn cache(
    attr: &EndpointAttr,
    method: Option<Method>,
    output: &ReturnType,
    errors: &mut Accumulator,
) -> Option<Cache> {
    let declared = attr.cache.as_ref()?;
    if let Some(method @ (Method::Post | Method::Put | Method::Patch | Method::Delete)) = method {
        errors.push(
            Error::custom(format!(
                "`cache` is for GET endpoints, not {}\nhelp: a write's answer is not kept; remove `cache`, and name what this write makes stale with `invalidates = [..]`",
                method.constant()
            ))
            .with_span(&declared.key),
        );
    }
    if let ReturnType::Type(_, ty) = output
        && let Some(span) = sensitive_segment(ty)
    {
        errors.push(
            Error::custom(
                "a `Sensitive` reply is never cached: it carries a credential, which is never stored\nhelp: remove `cache`; cache the reads that return no secret",
            )
            .with_span(&span),
        );
    }
    if declared.shared.is_present() && attr.public.is_present() {
        errors.push(
            Error::custom(
                "`shared` on a `public` endpoint says nothing: its anonymous entry is shared already\nhelp: remove `shared`",
            )
            .with_span(&declared.shared.span()),
        );
    }
    let lifetimes = lifetimes(&declared.ttl, declared.stale_if_error.as_ref(), errors);
    let tags = tags(&declared.tags, "tags", errors);
    // A duration refused above is an error already; the definition is not built then.
    let (ttl_ms, stale_if_error_ms) = lifetimes?;
    Some(Cache {
        ttl_ms,
        shared: declared.shared.is_present(),
        stale_if_error_ms,
        tags,
    })
}

/// A cache's `ttl` (1s..=1d) and `stale_if_error` (0s..=1d, `None` when not given) in ms, the
/// same for an endpoint and a repository query; `None` when one is refused (its error pushed).
pub(crate) fn lifetimes(
    ttl: &LitStr,
    stale_if_error: Option<&LitStr>,
    errors: &mut Accumulator,
) -> Option<(u64, Option<u64>)> {
    let ttl_ms = duration(ttl, MIN_TTL_MS, "1s and 1d", errors);
    let stale_if_error_ms = stale_if_error.map(|lit| duration(lit, 0, "0s and 1d", errors));
    Some((
        ttl_ms?,
        match stale_if_error_ms {
            Some(ms) => Some(ms?),
            None => None,
        },
    ))
}

/// The tags a write makes stale; empty when it declares none.
pub(super) fn invalidates(
    attr: &EndpointAttr,
    method: Option<Method>,
    errors: &mut Accumulator,
) -> Vec<String> {
    let Some(declared) = &attr.invalidates else {
        return Vec::new();
    };
    if let Some(Method::Get) = method {
        errors.push(
            Error::custom(
                "`invalidates` is for writes (POST, PUT, PATCH, DELETE): a read invalidates nothing\nhelp: remove `invalidates`; to keep this read's answer, use `cache(ttl = \"30s\", tags = [..])`",
            )
            .with_span(&declared.key),
        );
        return Vec::new();
    }
    if declared.value.is_empty() {
        errors.push(
            Error::custom(
                "`invalidates = []` names no tag\nhelp: list the tags this write makes stale, e.g. `invalidates = [\"projects\"]`, or remove `invalidates`",
            )
            .with_span(&declared.value.span()),
        );
    }
    tags(&declared.value, "invalidates", errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sensitive(text: &str) -> bool {
        syn::parse_str::<Type>(text)
            .ok()
            .and_then(|ty| sensitive_segment(&ty))
            .is_some()
    }

    #[test]
    fn sensitive_anywhere_in_the_type() {
        assert!(sensitive("ApiResult<Sensitive<Token>>"));
        assert!(sensitive("Result<Sensitive<X>, ApiError>"));
        assert!(sensitive(
            "Result<Created<rampart::Sensitive<X>>, ApiError>"
        ));
        assert!(sensitive("ApiResult<(Sensitive<X>, Y)>"));
        assert!(sensitive("Sensitive<X>"));
        assert!(!sensitive("ApiResult<Token>"));
        assert!(!sensitive("ApiResult<Paginated<SensitiveData>>"));
    }

    #[test]
    fn tag_syntax() {
        assert_eq!(tag_mistake("projects"), None);
        assert_eq!(tag_mistake("team:1.tasks_v2-x"), None);
        assert!(tag_mistake("").is_some());
        assert!(tag_mistake("Projects").is_some());
        assert!(tag_mistake("a b").is_some());
        assert!(tag_mistake(&"a".repeat(65)).is_some());
        assert_eq!(tag_mistake(&"a".repeat(64)), None);
    }
}
