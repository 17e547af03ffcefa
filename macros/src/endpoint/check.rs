//! Checks an `#[endpoint]` declaration against itself and the fn it sits on; every problem is
//! reported at once, each at the narrowest token, with a `help:` naming the fix.

use darling::Error;
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{FnArg, LitStr, Pat, ReturnType, Type};

use super::attr::EndpointAttr;
use crate::util::{doc_text, is_snake_ident, permission_ident, summary_and_description, type_head};

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

/// Parses `120/min` (the grammar `RAMPART_*_RATE_LIMIT` reads too); the error says which
/// part is wrong.
pub(crate) fn parse_rate_limit(text: &str) -> Result<(u32, u64), String> {
    rampart_spec::rate(text)
        .map(|rate| (rate.count, rate.per_seconds))
        .map_err(|error| error.message().to_owned())
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
    pub(crate) inputs: Vec<Input>,
    pub(crate) output: Type,
}

/// Parses the path template: `/tasks/{id}`. Returns the parameter names in order.
pub(crate) fn parse_template(path: &str) -> Result<Vec<String>, String> {
    rampart_spec::path_template(path).map_err(|error| error.message().to_owned())
}

/// A body limit: the size grammar configuration reads too, above zero.
pub(crate) fn parse_size(text: &str) -> Option<usize> {
    rampart_spec::size(text).ok().filter(|n| *n > 0)
}

/// A timeout in milliseconds: the duration grammar configuration reads too, above zero.
pub(crate) fn parse_duration_ms(text: &str) -> Option<u64> {
    rampart_spec::duration(text)
        .ok()
        .and_then(|d| u64::try_from(d.as_millis()).ok())
        .filter(|ms| *ms > 0)
}

/// Names bound by a `Path` pattern, with their spans, or `None` when the pattern binds the
/// whole extractor (e.g. `params: Path<P>`).
fn path_pattern_names(pat: &Pat) -> Option<Vec<(String, Span)>> {
    let Pat::TupleStruct(tuple_struct) = pat else {
        return None;
    };
    let inner = tuple_struct.elems.first()?;
    let ident_of = |p: &Pat| match p {
        Pat::Ident(ident) => Some((
            ident.ident.to_string().trim_start_matches("r#").to_owned(),
            ident.ident.span(),
        )),
        _ => None,
    };
    match inner {
        Pat::Ident(_) => ident_of(inner).map(|name| vec![name]),
        Pat::Tuple(tuple) => tuple.elems.iter().map(ident_of).collect(),
        Pat::Struct(structure) => structure
            .fields
            .iter()
            .map(|field| match &field.member {
                syn::Member::Named(name) => Some((name.to_string(), name.span())),
                syn::Member::Unnamed(_) => None,
            })
            .collect(),
        _ => None,
    }
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

    // Access: public, or authenticated with at most one of role / roles / permission.
    let requirement_keys: Vec<(&str, Span)> = [
        attr.role.as_ref().map(|l| ("role", l.span())),
        attr.roles
            .as_ref()
            .map(|l| ("roles", l.first().map_or(Span::call_site(), |l| l.span()))),
        attr.permission.as_ref().map(|l| ("permission", l.span())),
        attr.auth.as_ref().map(|l| ("auth", l.span())),
    ]
    .into_iter()
    .flatten()
    .collect();
    let public = attr.public.is_present();
    if public {
        for (key, span) in &requirement_keys {
            errors.push(
                Error::custom(format!(
                    "`public` endpoints take no `{key}`\nhelp: remove `public` to require authentication, or remove `{key}`"
                ))
                .with_span(span),
            );
        }
    }
    let mut scheme = Scheme::Any;
    if let Some(auth) = &attr.auth {
        match auth.value().as_str() {
            "jwt" => scheme = Scheme::Jwt,
            "api_key" => scheme = Scheme::ApiKey,
            other => errors.push(
                Error::custom(format!(
                    "unknown auth scheme `{other}`\nhelp: expected \"jwt\" or \"api_key\""
                ))
                .with_span(auth),
            ),
        }
    }
    let exclusive: Vec<&(&str, Span)> = requirement_keys
        .iter()
        .filter(|(key, _)| *key != "auth")
        .collect();
    if exclusive.len() > 1 {
        errors.push(
            Error::custom(format!(
                "`{}` and `{}` cannot be combined\nhelp: use `roles = [..]` for any-of several roles, or one permission",
                exclusive[0].0, exclusive[1].0
            ))
            .with_span(&exclusive[1].1),
        );
    }
    let check_role = |lit: &LitStr, errors: &mut darling::error::Accumulator| {
        if !is_snake_ident(&lit.value()) {
            errors
                .push(Error::custom("role names are snake_case: `[a-z][a-z0-9_]*`").with_span(lit));
        }
    };
    let requirement = if let Some(role) = &attr.role {
        check_role(role, &mut errors);
        Requirement::Roles(vec![role.clone()])
    } else if let Some(roles) = &attr.roles {
        if roles.is_empty() {
            errors.push(Error::custom(
                "`roles = []` names no role\nhelp: list at least one role",
            ));
        }
        for role in roles {
            check_role(role, &mut errors);
        }
        Requirement::Roles(roles.clone())
    } else if let Some(permission) = &attr.permission {
        match permission_ident(&permission.value()) {
            Some(ident) => Requirement::Permission(permission.clone(), ident),
            None => {
                errors.push(
                    Error::custom(
                        "a permission is written `resource:action`, e.g. \"tasks:write\"",
                    )
                    .with_span(permission),
                );
                Requirement::Authenticated
            }
        }
    } else {
        Requirement::Authenticated
    };
    let access = if public {
        Access::Public
    } else {
        Access::Protected {
            scheme,
            requirement,
        }
    };

    let body_limit = attr.body_limit.as_ref().and_then(|lit| {
        let parsed = parse_size(&lit.value());
        if parsed.is_none() {
            errors.push(
                Error::custom(format!("`{}` is not a size\nhelp: write a size such as \"64KiB\", \"1MiB\" or \"512\" (bytes)", lit.value()))
                    .with_span(lit),
            );
        }
        parsed
    });
    let mut duration = |lit: &LitStr| {
        let parsed = parse_duration_ms(&lit.value());
        if parsed.is_none() {
            errors.push(
                Error::custom(format!("`{}` is not a duration\nhelp: write a duration such as \"500ms\", \"5s\" or \"2m\"", lit.value()))
                    .with_span(lit),
            );
        }
        parsed
    };
    let timeout_ms = attr.timeout.as_ref().and_then(&mut duration);
    let body_timeout_ms = attr.body_timeout.as_ref().and_then(&mut duration);
    let mut status_codes = Vec::new();
    for lit in attr.errors.iter().flatten() {
        match lit.base10_parse::<u16>() {
            Ok(code) if (400..=599).contains(&code) => status_codes.push(code),
            _ => errors.push(
                Error::custom("`errors` lists HTTP error statuses (400..=599)\nhelp: the success status comes from the return type; list only errors, e.g. `errors = [409, 422]`").with_span(lit),
            ),
        }
    }
    let rate_limit = match &attr.rate_limit {
        Some(lit) => match parse_rate_limit(&lit.value()) {
            Ok((count, per_seconds)) => {
                let burst = match &attr.burst {
                    Some(burst) => match burst.base10_parse::<u32>() {
                        Ok(0) | Err(_) => {
                            errors.push(
                                Error::custom("`burst` is a positive number of requests\nhelp: write e.g. `burst = 20`, or leave it out to allow the rate limit's count at once")
                                    .with_span(burst),
                            );
                            count
                        }
                        Ok(n) => n,
                    },
                    None => count,
                };
                Some(RateLimit {
                    count,
                    per_seconds,
                    burst,
                })
            }
            Err(message) => {
                errors.push(
                    Error::custom(format!("{message}\nhelp: write e.g. `rate_limit = \"120/min\"` (units: sec, min, hour, day)"))
                        .with_span(lit),
                );
                None
            }
        },
        None => {
            if let Some(burst) = &attr.burst {
                errors.push(
                    Error::custom(
                        "`burst` needs a `rate_limit`\nhelp: add e.g. `rate_limit = \"120/min\"`",
                    )
                    .with_span(burst),
                );
            }
            None
        }
    };
    let operation_id = match &attr.operation_id {
        Some(lit) => {
            let value = lit.value();
            if value.is_empty()
                || !value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                errors.push(Error::custom("an operation id is `[A-Za-z0-9_-]+`").with_span(lit));
            }
            value
        }
        None => signature.ident.to_string(),
    };

    // Inputs: classify extractors and check `Path` bindings against the template.
    let mut inputs = Vec::new();
    let mut path_bound = false;
    for argument in &signature.inputs {
        let FnArg::Typed(typed) = argument else {
            errors
                .push(Error::custom("an endpoint is a free fn, not a method").with_span(argument));
            continue;
        };
        let ty = (*typed.ty).clone();
        let kind = match type_head(&ty) {
            Some((name, args)) if name == "Path" && args.len() == 1 => {
                path_bound = true;
                let inner = args[0].clone();
                let template = method.as_ref().map(|(_, lit)| lit);
                check_path_binding(&typed.pat, &inner, &path_params, template, &mut errors)
            }
            Some((name, args)) if name == "Json" && args.len() == 1 => {
                InputKind::Json(args[0].clone())
            }
            Some((name, args)) if name == "Query" && args.len() == 1 => {
                InputKind::Query(args[0].clone())
            }
            Some((name, args)) if name == "Page" && args.is_empty() => InputKind::Page,
            Some((name, args)) if name == "IfMatch" && args.is_empty() => InputKind::IfMatch,
            Some((name, args)) if name == "ListQuery" && args.len() == 1 => {
                InputKind::List(args[0].clone())
            }
            _ => InputKind::Other,
        };
        inputs.push(Input { ty, kind });
    }
    let types: Vec<&Type> = inputs.iter().map(|input| &input.ty).collect();
    super::extractors::check_body_position(&types, &mut errors);
    if !path_bound
        && !path_params.is_empty()
        && let Some((_, lit)) = &method
    {
        let names = path_params.join(", ");
        errors.push(
            Error::custom(format!(
                "path parameter{} `{names}` ha{} no `Path` extractor\nhelp: add an argument such as `Path({}): Path<Uuid>`",
                if path_params.len() > 1 { "s" } else { "" },
                if path_params.len() > 1 { "ve" } else { "s" },
                if path_params.len() > 1 { format!("({names})") } else { names.clone() },
            ))
            .with_span(lit),
        );
    }
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

fn check_path_binding(
    pat: &Pat,
    inner: &Type,
    params: &[String],
    template: Option<&LitStr>,
    errors: &mut darling::error::Accumulator,
) -> InputKind {
    let form = match (inner, pat) {
        (Type::Tuple(tuple), _) => PathForm::Tuple(tuple.elems.iter().cloned().collect()),
        (_, Pat::TupleStruct(ts)) if matches!(ts.elems.first(), Some(Pat::Struct(_))) => {
            PathForm::Struct(inner.clone())
        }
        _ => PathForm::Single(inner.clone()),
    };
    if params.is_empty() {
        if template.is_some() {
            errors.push(
                Error::custom("this `Path` extractor has no parameter to bind: the path has no `{..}`\nhelp: add the parameter to the path, or remove the extractor")
                    .with_span(pat),
            );
        }
        return InputKind::Path(form);
    }
    match path_pattern_names(pat) {
        Some(names) => {
            for (name, span) in &names {
                if !params.contains(name) {
                    errors.push(
                        Error::custom(format!(
                            "`{name}` is not a parameter of this path\nhelp: the path declares `{}`; bind each parameter by its name",
                            params.iter().map(|p| format!("{{{p}}}")).collect::<Vec<_>>().join(", ")
                        ))
                        .with_span(span),
                    );
                }
            }
            // A name that is not a parameter is most likely the unbound one misspelt: its
            // error already lists the parameters, so unbound ones are reported only without it.
            let misnamed = names.iter().any(|(name, _)| !params.contains(name));
            for param in params.iter().filter(|_| !misnamed) {
                if !names.iter().any(|(name, _)| name == param) {
                    let target: Span = template.map_or_else(|| pat.span(), |lit| lit.span());
                    errors.push(
                        Error::custom(format!("path parameter `{{{param}}}` is not bound by the `Path` extractor\nhelp: bind it, e.g. `Path({param})`"))
                            .with_span(&target),
                    );
                }
            }
            let positional = matches!(form, PathForm::Tuple(_) | PathForm::Single(_));
            let in_order = names.iter().map(|(n, _)| n).eq(params.iter());
            if positional && names.len() == params.len() && !in_order && names.iter().all(|(n, _)| params.contains(n)) {
                errors.push(
                    Error::custom("tuple `Path` bindings are positional: list them in the order of the path")
                        .with_span(pat),
                );
            }
        }
        None if params.len() == 1 => {}
        None => errors.push(
            Error::custom(
                "rampart cannot check this `Path` binding against the path's parameters\nhelp: destructure it: `Path((a, b)): Path<(A, B)>` or `Path(Params { a, b }): Path<Params>`",
            )
            .with_span(pat),
        ),
    }
    InputKind::Path(form)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert_eq!(parse_template("/tasks/{id}"), Ok(vec!["id".to_owned()]));
        assert_eq!(parse_template("/"), Ok(vec![]));
        assert_eq!(
            parse_template("/a/{x}/b/{y}"),
            Ok(vec!["x".to_owned(), "y".to_owned()])
        );
        assert!(parse_template("tasks").is_err());
        assert!(parse_template("/tasks/:id").is_err());
        assert!(parse_template("/tasks/{id").is_err());
        assert!(parse_template("/tasks/{id}/{id}").is_err());
        assert!(parse_template("/tasks//x").is_err());
        assert!(parse_template("/tasks/").is_err());
        assert!(parse_template("/t/{*rest}").is_err());
    }

    #[test]
    fn rate_limits() {
        assert_eq!(parse_rate_limit("120/min"), Ok((120, 60)));
        assert_eq!(parse_rate_limit("5/sec"), Ok((5, 1)));
        assert_eq!(parse_rate_limit("1000/day"), Ok((1000, 86_400)));
        assert!(parse_rate_limit("10/minutes").is_err());
        assert!(parse_rate_limit("0/min").is_err());
        assert!(parse_rate_limit("ten/min").is_err());
        assert!(parse_rate_limit("10").is_err());
    }

    #[test]
    fn units() {
        assert_eq!(parse_size("64KiB"), Some(65536));
        assert_eq!(parse_size("ten"), None);
        assert_eq!(parse_size("0"), None);
        assert_eq!(parse_duration_ms("5s"), Some(5000));
        assert_eq!(parse_duration_ms("5"), None);
    }
}
