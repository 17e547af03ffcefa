//! The arguments of an endpoint, checked where they are written: the body extractor's
//! position (a macro error at the misplaced argument) and each argument's type (spanned
//! assertions on hidden runtime traits whose `on_unimplemented` names the missing derive; see
//! `rampart_runtime::macro_support::extractors`).

use darling::Error;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::Type;
use syn::spanned::Spanned;

use super::check::{Input, InputKind};
use crate::paths::{
    ACCEPTED, ASSERT_EXTRACTOR, ASSERT_JSON_DESERIALIZE, ASSERT_JSON_SCHEMA, ASSERT_JSON_VALIDATE,
    ASSERT_KNOWN_EXTRACTOR, ASSERT_PATH_DESERIALIZE, ASSERT_QUERY_DESERIALIZE,
    ASSERT_QUERY_VALIDATE, LAST_FROM_PARTS, LAST_FROM_REQUEST, LAST_PROBE, LAST_REFUSED,
    PARTS_ACCEPTED, PARTS_PROBE, PARTS_REFUSED, RuntimePath, use_traits,
};
use crate::util::type_head;

/// Extractors that read the request body: axum runs one of them, last.
const BODY_EXTRACTORS: &[&str] = &[
    "Json",
    "String",
    "Bytes",
    "Body",
    "Request",
    "Form",
    "RawForm",
    "Multipart",
];

fn body_name(ty: &Type) -> Option<String> {
    type_head(ty)
        .map(|(name, _)| name)
        .filter(|name| BODY_EXTRACTORS.contains(&name.as_str()))
}

fn written(ty: &Type) -> String {
    quote::ToTokens::to_token_stream(ty)
        .to_string()
        .replace(" < ", "<")
        .replace(" >", ">")
        .replace(" :: ", "::")
}

/// One body extractor, last: an error at the second body extractor, or at the one body
/// extractor when an argument follows it.
pub(crate) fn check_body_position(types: &[&Type], errors: &mut darling::error::Accumulator) {
    let bodies: Vec<(usize, &Type)> = types
        .iter()
        .enumerate()
        .filter(|(_, ty)| body_name(ty).is_some())
        .map(|(index, ty)| (index, *ty))
        .collect();
    match bodies.as_slice() {
        [] => {}
        [(index, ty)] if index + 1 < types.len() => errors.push(
            Error::custom(format!(
                "`{}` reads the request body, so it is the last argument\nhelp: move it after the other arguments",
                written(ty)
            ))
            .with_span(ty),
        ),
        [_] => {}
        [(_, first), rest @ ..] => {
            for (_, ty) in rest {
                errors.push(
                    Error::custom(format!(
                        "a second body extractor: `{}` already reads the request body, which is read once\nhelp: keep one body extractor (`Json<T>` for a JSON body), last",
                        written(first)
                    ))
                    .with_span(ty),
                );
            }
        }
    }
}

/// The statements that check every argument, and the combined status the handler's route is
/// picked by (`RouteProbe`).
pub(crate) fn argument_checks(inputs: &[Input]) -> (TokenStream, TokenStream) {
    let mut checks = use_traits(&[
        LAST_FROM_PARTS,
        LAST_FROM_REQUEST,
        LAST_REFUSED,
        PARTS_ACCEPTED,
        PARTS_REFUSED,
    ]);
    let mut statuses = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        let ty = &input.ty;
        let status = format_ident!("__rampart_status{}", index);
        let probe = if index + 1 == inputs.len() {
            quote_spanned!(ty.span()=> (&&&#LAST_PROBE::<#ty>::new()).last_status())
        } else {
            quote_spanned!(ty.span()=> (&&#PARTS_PROBE::<#ty>::new()).parts_status())
        };
        checks.extend(quote!(let #status = #probe;));
        let inner = type_head(ty).and_then(|(_, args)| args.into_iter().next());
        let assertions: &[RuntimePath] = match (&input.kind, &inner) {
            (InputKind::Json(_), Some(_)) => &[
                ASSERT_JSON_DESERIALIZE,
                ASSERT_JSON_VALIDATE,
                ASSERT_JSON_SCHEMA,
            ],
            (InputKind::Query(_), Some(_)) => &[ASSERT_QUERY_DESERIALIZE, ASSERT_QUERY_VALIDATE],
            (InputKind::Path(_), Some(_)) => &[ASSERT_PATH_DESERIALIZE],
            // `ListQuery<R>` is refused only when `R` is not a resource, which documenting
            // it reports at `R`.
            (InputKind::List(_), _) => &[],
            _ => {
                checks.extend(quote_spanned!(ty.span()=> #ASSERT_EXTRACTOR::<#ty, _>(&#status);));
                &[]
            }
        };
        // Recognised by name: rampart's own type is covered by the assertions at its inner
        // type, any other type of that name must be an extractor.
        if matches!(
            input.kind,
            InputKind::Json(_) | InputKind::Query(_) | InputKind::Path(_) | InputKind::List(_)
        ) {
            checks.extend(quote_spanned!(ty.span()=> #ASSERT_KNOWN_EXTRACTOR::<#ty, _>(&#status);));
        }
        if let Some(inner) = &inner {
            for assertion in assertions {
                checks.extend(quote_spanned!(inner.span()=> #assertion::<#inner>();));
            }
        }
        statuses.push(status);
    }
    let status = quote!(#ACCEPTED #(.and(#statuses))*);
    (checks, status)
}
