//! A field's constraints: its `#[validate]` rules read as OpenAPI constraints, and its
//! `#[schema(...)]` keys. Bounds that no value can meet (`min` above `max`) and patterns that
//! do not compile are errors at the value, with a `help:`; the grammar of `#[validate]` itself
//! is validator's, which reports its own mistakes.

use darling::ast::NestedMeta;
use darling::error::Accumulator;
use darling::{Error, FromMeta};
use proc_macro2::TokenStream;
use quote::quote;

use crate::grammar::{Key, Shape, check_keys, key};
use crate::paths::CONSTRAINT;

#[derive(Debug, Default, FromMeta)]
#[darling(allow_unknown_fields)]
struct LengthRule {
    min: Option<syn::Expr>,
    max: Option<syn::Expr>,
    equal: Option<syn::Expr>,
}

#[derive(Debug, Default, FromMeta)]
#[darling(allow_unknown_fields)]
struct RangeRule {
    min: Option<syn::Expr>,
    max: Option<syn::Expr>,
    exclusive_min: Option<syn::Expr>,
    exclusive_max: Option<syn::Expr>,
}

/// `#[schema(...)]` on a field: every key is rampart's, so an unknown one is an error.
#[derive(Debug, Default, FromMeta)]
struct SchemaFieldAttr {
    /// The pattern of a `regex` rule (whose regex lives in a static the macro cannot read).
    pattern: Option<syn::LitStr>,
    /// `#[schema(non_null)]`: may be left out, never `null` (documented as the type alone).
    #[darling(default)]
    non_null: darling::util::Flag,
}

/// Every key of `SchemaFieldAttr`.
const SCHEMA_KEYS: &[Key] = &[
    key(
        "pattern",
        Shape::Str,
        "a regular expression as a string",
        "pattern = \"^[a-z]+$\"",
    ),
    key(
        "non_null",
        Shape::Flag,
        "no value (it is a flag)",
        "non_null",
    ),
];

/// The value of a literal bound (`5`, `-1.5`); `None` for a constant or an expression, which
/// only validator sees the value of.
fn literal_number(expr: &syn::Expr) -> Option<f64> {
    match expr {
        syn::Expr::Lit(syn::ExprLit { lit, .. }) => match lit {
            syn::Lit::Int(int) => int.base10_parse::<f64>().ok(),
            syn::Lit::Float(float) => float.base10_parse::<f64>().ok(),
            _ => None,
        },
        syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => literal_number(expr).map(|n| -n),
        syn::Expr::Group(group) => literal_number(&group.expr),
        _ => None,
    }
}

/// A lower and an upper bound that leave no value: the error sits on the upper one.
fn check_bounds(
    lower: Option<(&str, &syn::Expr, bool)>,
    upper: Option<(&str, &syn::Expr, bool)>,
    errors: &mut Accumulator,
) {
    let (Some((low_key, low, low_excl)), Some((high_key, high, high_excl))) = (lower, upper) else {
        return;
    };
    let (Some(low_n), Some(high_n)) = (literal_number(low), literal_number(high)) else {
        return;
    };
    let empty = low_n > high_n || (low_n == high_n && (low_excl || high_excl));
    if empty {
        errors.push(
            Error::custom(format!(
                "`{low_key} = {}` and `{high_key} = {}` leave no value that passes\nhelp: swap the two bounds, or correct one of them",
                quote!(#low), quote!(#high)
            ))
            .with_span(high),
        );
    }
}

fn length(meta: &syn::Meta, out: &mut Vec<TokenStream>, errors: &mut Accumulator) {
    let Some(rule) = errors.handle(LengthRule::from_meta(meta)) else {
        return;
    };
    let count = |expr: &syn::Expr| quote!((#expr) as usize);
    // `equal` next to `min`/`max` is validator's error to report.
    if let Some(equal) = &rule.equal {
        let n = count(equal);
        out.push(quote!(#CONSTRAINT::MinLength(#n)));
        out.push(quote!(#CONSTRAINT::MaxLength(#n)));
    }
    let lower = rule.min.as_ref().map(|e| ("min", e, false));
    let upper = rule.max.as_ref().map(|e| ("max", e, false));
    check_bounds(lower, upper, errors);
    if let Some(min) = &rule.min {
        let n = count(min);
        out.push(quote!(#CONSTRAINT::MinLength(#n)));
    }
    if let Some(max) = &rule.max {
        let n = count(max);
        out.push(quote!(#CONSTRAINT::MaxLength(#n)));
    }
}

fn range(meta: &syn::Meta, out: &mut Vec<TokenStream>, errors: &mut Accumulator) {
    let Some(rule) = errors.handle(RangeRule::from_meta(meta)) else {
        return;
    };
    let number = |expr: &syn::Expr| quote!((#expr) as f64);
    let lower = (rule.min.as_ref().map(|e| ("min", e, false))).or(rule
        .exclusive_min
        .as_ref()
        .map(|e| ("exclusive_min", e, true)));
    let upper = (rule.max.as_ref().map(|e| ("max", e, false))).or(rule
        .exclusive_max
        .as_ref()
        .map(|e| ("exclusive_max", e, true)));
    check_bounds(lower, upper, errors);
    // Exclusive bounds stay exclusive in the document (exclusiveMinimum is a number in OpenAPI
    // 3.1): documenting them as minimum/maximum would tell clients the bound is accepted.
    let bounds = [
        (&rule.min, quote!(Minimum)),
        (&rule.exclusive_min, quote!(ExclusiveMinimum)),
        (&rule.max, quote!(Maximum)),
        (&rule.exclusive_max, quote!(ExclusiveMaximum)),
    ];
    for (bound, variant) in bounds {
        if let Some(expr) = bound {
            let n = number(expr);
            out.push(quote!(#CONSTRAINT::#variant(#n)));
        }
    }
}

/// What is wrong with a pattern, as the `regex` crate (validator's) would say it.
fn pattern_problem(pattern: &str) -> Option<String> {
    let at = |kind: &dyn std::fmt::Display, span: &regex_syntax::ast::Span| {
        format!("{kind} (at character {})", span.start.offset + 1)
    };
    match regex_syntax::parse(pattern) {
        Ok(_) => None,
        Err(regex_syntax::Error::Parse(error)) => Some(at(error.kind(), error.span())),
        Err(regex_syntax::Error::Translate(error)) => Some(at(error.kind(), error.span())),
        Err(other) => Some(other.to_string()),
    }
}

fn schema_keys(attr: &syn::Attribute, out: &mut Vec<TokenStream>, errors: &mut Accumulator) {
    let syn::Meta::List(list) = &attr.meta else {
        errors.push(
            Error::custom("`#[schema]` takes keys\nhelp: write `#[schema(pattern = \"...\")]` or `#[schema(non_null)]`")
                .with_span(attr.path()),
        );
        return;
    };
    let Some(items) =
        errors.handle(NestedMeta::parse_meta_list(list.tokens.clone()).map_err(Error::from))
    else {
        return;
    };
    let items = check_keys(items, SCHEMA_KEYS, "`#[schema]`", errors);
    let Some(field) = errors.handle(SchemaFieldAttr::from_list(&items)) else {
        return;
    };
    if let Some(pattern) = field.pattern {
        if let Some(problem) = pattern_problem(&pattern.value()) {
            errors.push(
                Error::custom(format!("this pattern does not compile: {problem}\nhelp: write a pattern the `regex` crate accepts (the one validator's `regex` rule runs)"))
                    .with_span(&pattern),
            );
        }
        out.push(quote!(#CONSTRAINT::Pattern(#pattern)));
    }
    if field.non_null.is_present() {
        out.push(quote!(#CONSTRAINT::NonNull));
    }
}

/// The validator rules rampart documents, by name; the others are validator's alone.
fn validate_rules(attr: &syn::Attribute, out: &mut Vec<TokenStream>, errors: &mut Accumulator) {
    let syn::Meta::List(list) = &attr.meta else {
        return;
    };
    // A `#[validate]` that does not parse is validator's error to report.
    let Ok(items) = NestedMeta::parse_meta_list(list.tokens.clone()) else {
        return;
    };
    for item in items {
        let NestedMeta::Meta(meta) = item else {
            continue;
        };
        match meta.path().get_ident().map(|i| i.to_string()).as_deref() {
            Some("length") => length(&meta, out, errors),
            Some("range") => range(&meta, out, errors),
            Some("email") => out.push(quote!(#CONSTRAINT::Email)),
            Some("url") => out.push(quote!(#CONSTRAINT::Url)),
            _ => {}
        }
    }
}

pub(super) fn constraints(attrs: &[syn::Attribute], errors: &mut Accumulator) -> Vec<TokenStream> {
    let mut out = Vec::new();
    for attr in attrs {
        if attr.path().is_ident("validate") {
            validate_rules(attr, &mut out, errors);
        } else if attr.path().is_ident("schema") {
            schema_keys(attr, &mut out, errors);
        }
    }
    // A field that opts out of the control-character refusal (`rampart::text::allow_control`,
    // or `#[resource(allow_control)]`'s generated deserializers) is documented without the
    // refusal pattern: the document says what the field accepts.
    let opts_out = attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .any(|a| {
            a.meta
                .require_list()
                .is_ok_and(|list| list.tokens.to_string().contains("allow_control"))
        });
    if opts_out {
        out.push(quote!(#CONSTRAINT::AllowControl));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert_eq!(pattern_problem("^[a-z]+$"), None);
        assert_eq!(pattern_problem(r"^\p{L}+$"), None);
        assert!(pattern_problem("^[a-z+$").is_some());
        assert!(pattern_problem("(unclosed").is_some());
    }

    #[test]
    fn bounds() {
        let expr = |text: &str| syn::parse_str::<syn::Expr>(text).ok();
        assert_eq!(expr("-2").as_ref().and_then(literal_number), Some(-2.0));
        assert_eq!(expr("1.5").as_ref().and_then(literal_number), Some(1.5));
        assert_eq!(expr("MAX").as_ref().and_then(literal_number), None);
    }
}
