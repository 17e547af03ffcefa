//! The shape of each key of an attribute, checked before darling reads it, so a value of the
//! wrong kind is one error that names the key and the form it takes (`rate_limit` expects a
//! string like "120/min"), never darling's generic "Unexpected literal type `int`". Unknown
//! and repeated keys are reported here too, with a did-you-mean. The items that pass go on to
//! darling, which therefore only ever sees well-formed input.

use darling::Error;
use darling::ast::NestedMeta;
use syn::{Expr, Lit, Meta};

/// The value a key takes.
#[derive(Clone, Copy)]
pub(crate) enum Shape {
    /// `key = "..."`.
    Str,
    /// `key = 5`.
    Int,
    /// `key`, no value.
    Flag,
    /// `key = ["a", "b"]`.
    StrList,
    /// `key = [409, 422]`.
    IntList,
    /// `key = user_id`: a name, also read from a string (`key = "user_id"`) as darling does.
    Ident,
    /// `key(...)`: options of their own, read by the key's parser.
    List,
    /// `key` alone, or `key(...)` with options.
    FlagOrList,
}

/// One key: its name, the value it takes, and an example of the whole item.
pub(crate) struct Key {
    pub(crate) name: &'static str,
    pub(crate) shape: Shape,
    /// What the value is, for the message: `a string like "120/min"`.
    pub(crate) expects: &'static str,
    /// The item written right, for the help: `rate_limit = "120/min"`.
    pub(crate) example: &'static str,
}

/// A [`Key`], in the short form the tables of keys are written in.
pub(crate) const fn key(
    name: &'static str,
    shape: Shape,
    expects: &'static str,
    example: &'static str,
) -> Key {
    Key {
        name,
        shape,
        expects,
        example,
    }
}

/// The expression inside the invisible groups a `macro_rules!` fragment (`$path:literal`)
/// arrives in.
fn ungrouped(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(group) => ungrouped(&group.expr),
        _ => expr,
    }
}

fn literals_all(expr: &Expr, is_kind: fn(&Lit) -> bool) -> bool {
    match ungrouped(expr) {
        Expr::Array(array) => array.elems.iter().all(
            |element| matches!(ungrouped(element), Expr::Lit(literal) if is_kind(&literal.lit)),
        ),
        _ => false,
    }
}

fn fits(meta: &Meta, shape: Shape) -> bool {
    let value = match meta {
        Meta::Path(_) => return matches!(shape, Shape::Flag | Shape::FlagOrList),
        Meta::List(_) => return matches!(shape, Shape::List | Shape::FlagOrList),
        Meta::NameValue(item) => ungrouped(&item.value),
    };
    match shape {
        Shape::Flag | Shape::List | Shape::FlagOrList => false,
        Shape::Ident => match value {
            Expr::Path(path) => path.path.get_ident().is_some(),
            Expr::Lit(l) => matches!(l.lit, Lit::Str(_)),
            _ => false,
        },
        Shape::Str => matches!(value, Expr::Lit(l) if matches!(l.lit, Lit::Str(_))),
        Shape::Int => matches!(value, Expr::Lit(l) if matches!(l.lit, Lit::Int(_))),
        Shape::StrList => literals_all(value, |lit| matches!(lit, Lit::Str(_))),
        Shape::IntList => literals_all(value, |lit| matches!(lit, Lit::Int(_))),
    }
}

/// The narrowest token to blame for a value of the wrong shape: the value, or the key when
/// there is none.
fn value_span(meta: &Meta) -> proc_macro2::Span {
    use syn::spanned::Spanned;
    match meta {
        Meta::NameValue(item) => item.value.span(),
        Meta::List(list) => list.delimiter.span().join(),
        Meta::Path(path) => path.span(),
    }
}

/// Edit distance, for the did-you-mean of an unknown key.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

fn closest<'a>(name: &str, names: &[&'a str]) -> Option<&'a str> {
    names
        .iter()
        .map(|candidate| (distance(name, candidate), *candidate))
        .filter(|(d, candidate)| *d <= 2.max(candidate.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, candidate)| candidate)
}

/// The error for a key `what` does not have, at the key, with the closest of `names` (or all
/// of them when none is close). Shared by every attribute, so they all word it the same way.
pub(crate) fn unknown_key(path: &syn::Path, names: &[&str], what: &str) -> Error {
    let name = path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default();
    let help = match closest(&name, names) {
        Some(candidate) => format!("did you mean `{candidate}`?"),
        None => format!(
            "the keys are {}",
            names
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let shown = quote::ToTokens::to_token_stream(path)
        .to_string()
        .replace(' ', "");
    Error::custom(format!("unknown key `{shown}` in {what}\nhelp: {help}")).with_span(path)
}

/// The error for a key given a second time, at the second.
pub(crate) fn given_twice(path: &syn::Path) -> Error {
    let shown = quote::ToTokens::to_token_stream(path)
        .to_string()
        .replace(' ', "");
    Error::custom(format!(
        "`{shown}` is given twice\nhelp: keep one `{shown}`"
    ))
    .with_span(path)
}

/// The error for a bare literal where `what` takes `key = value` items.
pub(crate) fn bare_literal(item: &NestedMeta, what: &str, example: &str) -> Error {
    Error::custom(format!(
        "{what} takes `key = value` items, not a bare literal\nhelp: e.g. `{example}`"
    ))
    .with_span(item)
}

/// Checks every item against `keys`: returns the items that fit (for darling) and pushes one
/// error per item that does not.
pub(crate) fn check_keys(
    items: Vec<NestedMeta>,
    keys: &[Key],
    what: &str,
    errors: &mut darling::error::Accumulator,
) -> Vec<NestedMeta> {
    let mut seen: Vec<String> = Vec::new();
    let mut fitting = Vec::new();
    for item in items {
        let NestedMeta::Meta(meta) = &item else {
            errors.push(bare_literal(&item, what, keys[0].example));
            continue;
        };
        let path = meta.path();
        let name = path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        let Some(key) = keys.iter().find(|key| key.name == name) else {
            let names: Vec<&str> = keys.iter().map(|key| key.name).collect();
            errors.push(unknown_key(path, &names, what));
            continue;
        };
        if seen.contains(&name) {
            errors.push(given_twice(path));
            continue;
        }
        seen.push(name);
        if !fits(meta, key.shape) {
            let span = value_span(meta);
            errors.push(
                Error::custom(format!(
                    "`{}` expects {}\nhelp: write `{}`",
                    key.name, key.expects, key.example
                ))
                .with_span(&span),
            );
            continue;
        }
        fitting.push(item);
    }
    fitting
}

#[cfg(test)]
mod tests {
    use super::{Shape, closest, distance, fits};

    /// Whether `text` fits `shape`; `None` when it is no meta at all.
    fn fit(text: &str, shape: Shape) -> Option<bool> {
        syn::parse_str::<syn::Meta>(text)
            .ok()
            .map(|meta| fits(&meta, shape))
    }

    #[test]
    fn names_and_lists() {
        // darling reads a name from a string too, so both are the `Ident` shape.
        assert_eq!(fit("owner = owner_id", Shape::Ident), Some(true));
        assert_eq!(fit("owner = \"owner_id\"", Shape::Ident), Some(true));
        assert_eq!(fit("owner = 1", Shape::Ident), Some(false));
        assert_eq!(fit("owner = a::b", Shape::Ident), Some(false));
        assert_eq!(fit("endpoints(path = \"/notes\")", Shape::List), Some(true));
        assert_eq!(fit("endpoints = \"/notes\"", Shape::List), Some(false));
        assert_eq!(fit("endpoints", Shape::List), Some(false));
        assert_eq!(fit("idempotent", Shape::FlagOrList), Some(true));
        assert_eq!(
            fit("idempotent(ttl = \"1h\")", Shape::FlagOrList),
            Some(true)
        );
        assert_eq!(fit("idempotent = true", Shape::FlagOrList), Some(false));
    }

    #[test]
    fn did_you_mean() {
        let names = ["table", "pagination", "endpoints"];
        assert_eq!(closest("paginaton", &names), Some("pagination"));
        assert_eq!(closest("tabel", &names), Some("table"));
        assert_eq!(closest("storage", &names), None);
    }

    #[test]
    fn edit_distance() {
        assert_eq!(distance("rol", "role"), 1);
        assert_eq!(distance("role", "role"), 0);
        assert_eq!(distance("timeuot", "timeout"), 2);
        assert_eq!(distance("", "abc"), 3);
    }
}
