//! The path template and the fn's arguments: each argument classified by its extractor, and
//! `Path` bindings checked against the template's parameters (names, order, none unbound).

use darling::Error;
use darling::error::Accumulator;
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{FnArg, LitStr, Pat, Type};

use super::{Input, InputKind, PathForm};
use crate::endpoint::extractors::check_body_position;
use crate::util::type_head;

/// Parses the path template: `/tasks/{id}`. Returns the parameter names in order.
pub(crate) fn parse_template(path: &str) -> Result<Vec<String>, String> {
    rampart_spec::path_template(path).map_err(|error| error.message().to_owned())
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

/// The fn's arguments, classified; `template` is the path (when the attribute names one) and
/// `path_params` its parameters.
pub(super) fn inputs(
    signature: &syn::Signature,
    template: Option<&LitStr>,
    path_params: &[String],
    errors: &mut Accumulator,
) -> Vec<Input> {
    let mut inputs = Vec::new();
    let mut path_bound = false;
    for argument in &signature.inputs {
        let FnArg::Typed(typed) = argument else {
            errors
                .push(Error::custom("an endpoint is a free fn, not a method\nhelp: move it out of the `impl` block and remove `self`; take what it needs as extractors").with_span(argument));
            continue;
        };
        let ty = (*typed.ty).clone();
        let kind = match type_head(&ty) {
            Some((name, args)) if name == "Path" && args.len() == 1 => {
                path_bound = true;
                let inner = args[0].clone();
                check_path_binding(&typed.pat, &inner, path_params, template, errors)
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
    check_body_position(&types, errors);
    if !path_bound
        && !path_params.is_empty()
        && let Some(lit) = template
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
    inputs
}

fn check_path_binding(
    pat: &Pat,
    inner: &Type,
    params: &[String],
    template: Option<&LitStr>,
    errors: &mut Accumulator,
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
                    Error::custom(format!("tuple `Path` bindings are positional: list them in the order of the path\nhelp: write `Path(({}))`", params.join(", ")))
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
}
