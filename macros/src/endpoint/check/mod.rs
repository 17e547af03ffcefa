//! Checks an `#[endpoint]` declaration against itself and the fn it sits on; every problem is
//! reported at once, each at the narrowest token, with a `help:` naming the fix.

mod access;
mod arguments;
mod cache;
mod idempotency;
mod limits;

use darling::Error;
use syn::{LitStr, ReturnType, Type};

pub(crate) use self::arguments::parse_template;
pub(crate) use self::cache::{Cache, lifetimes as cache_lifetimes, table_list};
use self::limits::Limits;
use super::attr::EndpointAttr;
use crate::util::{doc_text, summary_and_description};

#[derive(Debug, Clone, Copy)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub(crate) fn constant(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

pub(crate) enum Requirement {
    Authenticated,
    /// Role names, each with the literal to point errors at.
    Roles(Vec<LitStr>),
    /// The permission literal and its ident form.
    Permission(LitStr, String),
}

/// Which credentials a protected endpoint accepts.
#[derive(Clone, Copy)]
pub(crate) enum Scheme {
    Any,
    Jwt,
    ApiKey,
}

pub(crate) enum Access {
    Public,
    Protected {
        scheme: Scheme,
        requirement: Requirement,
    },
}

pub(crate) enum PathForm {
    /// `Path(id): Path<Uuid>`: one parameter.
    Single(Type),
    /// `Path((a, b)): Path<(A, B)>`: positional.
    Tuple(Vec<Type>),
    /// `Path(Params { a, b }): Path<Params>`: by field name.
    Struct(Type),
}

pub(crate) enum InputKind {
    Path(PathForm),
    Json(Type),
    Query(Type),
    Page,
    Other,
    /// `IfMatch`: the optional `If-Match` header.
    IfMatch,
    /// `ListQuery<R>`: the resource's filters, sort and page parameters.
    List(Type),
}

pub(crate) struct Input {
    pub(crate) ty: Type,
    pub(crate) kind: InputKind,
}

/// `rate_limit = "N/unit"` with an optional `burst`.
pub(crate) struct RateLimit {
    pub(crate) count: u32,
    pub(crate) per_seconds: u64,
    pub(crate) burst: u32,
}

/// A declaration that passed every check; only this reaches code generation.
pub(crate) struct CheckedEndpoint {
    pub(crate) function: syn::ItemFn,
    pub(crate) method: Method,
    pub(crate) path: LitStr,
    pub(crate) path_params: Vec<String>,
    pub(crate) access: Access,
    pub(crate) operation_id: String,
    pub(crate) summary: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) tags: Vec<String>,
    pub(crate) deprecated: bool,
    pub(crate) body_limit: Option<usize>,
    pub(crate) timeout_ms: Option<u64>,
    pub(crate) body_timeout_ms: Option<u64>,
    pub(crate) errors: Vec<u16>,
    pub(crate) rate_limit: Option<RateLimit>,
    /// `Some(ttl_ms)` when `idempotent` (`ttl_ms`: its own time to live, if it says one).
    pub(crate) idempotency: Option<Option<u64>>,
    /// `cache(..)`: `Some` on a cached GET.
    pub(crate) cache: Option<Cache>,
    /// `invalidates = [..]`: the tags a write makes stale.
    pub(crate) invalidates: Vec<String>,
    pub(crate) inputs: Vec<Input>,
    pub(crate) output: Type,
}

fn method_of(
    attr: &EndpointAttr,
    errors: &mut darling::error::Accumulator,
) -> Option<(Method, LitStr)> {
    let declared: Vec<(Method, &LitStr)> = [
        (Method::Get, &attr.get),
        (Method::Post, &attr.post),
        (Method::Put, &attr.put),
        (Method::Patch, &attr.patch),
        (Method::Delete, &attr.delete),
    ]
    .into_iter()
    .filter_map(|(method, lit)| lit.as_ref().map(|lit| (method, lit)))
    .collect();
    match declared.as_slice() {
        [] => {
            errors.push(Error::custom(
                "an endpoint needs a method and a path\nhelp: add one of `get`, `post`, `put`, `patch`, `delete`, e.g. `get = \"/tasks/{id}\"`",
            ));
            None
        }
        [(method, lit)] => Some((*method, (*lit).clone())),
        [_, (_, second), ..] => {
            errors.push(
                Error::custom("an endpoint has exactly one method\nhelp: declare a second endpoint for the other method")
                    .with_span(*second),
            );
            None
        }
    }
}

/// Mistakes of the fn itself, independent of the attribute: reported even when it does not parse.
pub(crate) fn check_signature(function: &syn::ItemFn, errors: &mut darling::error::Accumulator) {
    let signature = &function.sig;
    if signature.asyncness.is_none() {
        errors.push(
            Error::custom("an endpoint fn must be `async`\nhelp: write `async fn`")
                .with_span(&signature.fn_token),
        );
    }
    if !signature.generics.params.is_empty() {
        errors.push(
            Error::custom("an endpoint fn cannot be generic\nhelp: remove the type parameters; call a generic fn from the endpoint")
                .with_span(&signature.generics),
        );
    }
}

pub(crate) fn check(
    attr: EndpointAttr,
    function: &syn::ItemFn,
) -> darling::Result<CheckedEndpoint> {
    let mut errors = Error::accumulator();
    let signature = &function.sig;
    check_signature(function, &mut errors);
    let method = method_of(&attr, &mut errors);

    let mut path_params = Vec::new();
    if let Some((_, lit)) = &method {
        match parse_template(&lit.value()) {
            Ok(names) => path_params = names,
            Err(message) => errors.push(
                Error::custom(format!(
                    "invalid path template: {message}\nhelp: write a path like \"/tasks/{{id}}\""
                ))
                .with_span(lit),
            ),
        }
    }

    let access = access::access(&attr, &mut errors);

    let Limits {
        body_limit,
        timeout_ms,
        body_timeout_ms,
        status_codes,
        rate_limit,
    } = limits::limits(&attr, &mut errors);
    let idempotency =
        idempotency::idempotency(&attr, method.as_ref().map(|(m, _)| *m), &mut errors);
    let cache = cache::cache(
        &attr,
        method.as_ref().map(|(m, _)| *m),
        &signature.output,
        &mut errors,
    );
    let invalidates = cache::invalidates(&attr, method.as_ref().map(|(m, _)| *m), &mut errors);
    let operation_id = match &attr.operation_id {
        Some(lit) => {
            let value = lit.value();
            if value.is_empty()
                || !value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                errors.push(
                    Error::custom("an operation id is `[A-Za-z0-9_-]+`\nhelp: write e.g. `operation_id = \"getTask\"`")
                        .with_span(lit),
                );
            }
            value
        }
        None => signature.ident.to_string(),
    };

    let template = method.as_ref().map(|(_, lit)| lit);
    let inputs = arguments::inputs(signature, template, &path_params, &mut errors);
    let output = match &signature.output {
        ReturnType::Type(_, ty) => (**ty).clone(),
        ReturnType::Default => syn::parse_quote_spanned!(signature.ident.span()=> ()),
    };
    let (summary, description) = summary_and_description(&doc_text(&function.attrs));

    errors.finish()?;
    let Some((method, path)) = method else {
        return Err(Error::custom("an endpoint needs a method and a path"));
    };
    Ok(CheckedEndpoint {
        function: function.clone(),
        method,
        path,
        path_params,
        access,
        operation_id,
        summary,
        description,
        tags: attr.tag.map(|t| vec![t.value()]).unwrap_or_default(),
        deprecated: attr.deprecated.is_present(),
        body_limit,
        timeout_ms,
        body_timeout_ms,
        errors: status_codes,
        rate_limit,
        idempotency,
        cache,
        invalidates,
        inputs,
        output,
    })
}

/// Checks the access and limit options of `#[resource(endpoints(...))]` with `#[endpoint]`'s own
/// checks: they are the options of a GET endpoint at `path` (which must bind no parameter) on a
/// fn that takes nothing, so each mistake is the error `#[endpoint]` reports, at the same token,
/// once rather than once per generated endpoint.
pub(crate) fn check_options(mut attr: EndpointAttr, path: &LitStr) -> darling::Result<()> {
    attr.get = Some(path.clone());
    let probe: syn::ItemFn =
        syn::parse_quote_spanned!(path.span()=> async fn __rampart_options() {});
    check(attr, &probe).map(|_| ())
}
