//! Who may call an endpoint: `public`, or authenticated (by any scheme, or the one `auth`
//! names) with at most one of `role`, `roles` and `permission`.

use darling::Error;
use darling::error::Accumulator;
use proc_macro2::Span;
use syn::LitStr;

use super::{Access, Requirement, Scheme};
use crate::endpoint::attr::EndpointAttr;
use crate::util::{is_snake_ident, permission_ident, snake_case};

pub(super) fn access(attr: &EndpointAttr, errors: &mut Accumulator) -> Access {
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
            errors.push(
                Error::custom(format!(
                    "role names are snake_case: `[a-z][a-z0-9_]*`\nhelp: write `\"{}\"`, the name `roles!` declares",
                    snake_case(&lit.value())
                ))
                .with_span(lit),
            );
        }
    };
    let requirement = if let Some(role) = &attr.role {
        check_role(role, errors);
        Requirement::Roles(vec![role.clone()])
    } else if let Some(roles) = &attr.roles {
        if roles.is_empty() {
            errors.push(
                Error::custom("`roles = []` names no role\nhelp: list at least one role, e.g. `roles = [\"member\"]`")
                    .with_span(&roles.span()),
            );
        }
        for role in roles.iter() {
            check_role(role, errors);
        }
        Requirement::Roles(roles.to_vec())
    } else if let Some(permission) = &attr.permission {
        match permission_ident(&permission.value()) {
            Some(ident) => Requirement::Permission(permission.clone(), ident),
            None => {
                errors.push(
                    Error::custom(
                        "a permission is written `resource:action`\nhelp: write e.g. `permission = \"tasks:write\"`, as `roles!` declares it",
                    )
                    .with_span(permission),
                );
                Requirement::Authenticated
            }
        }
    } else {
        Requirement::Authenticated
    };
    if public {
        Access::Public
    } else {
        Access::Protected {
            scheme,
            requirement,
        }
    }
}
