//! Small helpers shared by the macros.

/// `[a-z][a-z0-9_]*`: role names and permission segments.
pub(crate) fn is_snake_ident(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !text.contains("__")
}

/// `resource:action` (each segment snake case); the ident form joins segments with `__`.
pub(crate) fn permission_ident(text: &str) -> Option<String> {
    let segments: Vec<&str> = text.split(':').collect();
    (segments.len() >= 2 && segments.iter().all(|s| is_snake_ident(s))).then(|| segments.join("__"))
}

/// The span of the whole attribute's arguments for errors that have no better token.
pub(crate) fn doc_text(attrs: &[syn::Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(syn::MetaNameValue {
                value:
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(text),
                        ..
                    }),
                ..
            }) => Some(text.value()),
            _ => None,
        })
        .collect()
}

/// Splits doc lines into a summary (first paragraph) and a description (the rest).
pub(crate) fn summary_and_description(lines: &[String]) -> (Option<String>, Option<String>) {
    let lines: Vec<&str> = lines
        .iter()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    let mut paragraphs = lines
        .split(|l| l.trim().is_empty())
        .filter(|p| !p.is_empty());
    let summary = paragraphs.next().map(|p| p.join(" ").trim().to_owned());
    let rest: Vec<String> = paragraphs.map(|p| p.join("\n")).collect();
    let description = (!rest.is_empty()).then(|| rest.join("\n\n"));
    (summary, description)
}

/// The last path segment of a type and its generic arguments: `rampart::Json<T>` → ("Json", [T]).
pub(crate) fn type_head(ty: &syn::Type) -> Option<(String, Vec<syn::Type>)> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    let args = match &last.arguments {
        syn::PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Some((last.ident.to_string(), args))
}

/// The snake_case spelling of a role name, for the helps of `roles!` and `#[endpoint]`:
/// `"TeamLead"` → `team_lead`, `"team-lead"` → `team_lead`.
pub(crate) fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_snake_ident("member"));
        assert!(is_snake_ident("team_lead2"));
        assert!(!is_snake_ident("Member"));
        assert!(!is_snake_ident("a__b"));
        assert!(!is_snake_ident(""));
        assert_eq!(
            permission_ident("tasks:write").as_deref(),
            Some("tasks__write")
        );
        assert_eq!(permission_ident("tasks"), None);
        assert_eq!(permission_ident("tasks:Write"), None);
    }

    #[test]
    fn docs_split() {
        let lines = vec![
            " Get one task.".to_owned(),
            "".to_owned(),
            " Longer text".to_owned(),
            " here.".to_owned(),
        ];
        assert_eq!(
            summary_and_description(&lines),
            (
                Some("Get one task.".to_owned()),
                Some("Longer text\nhere.".to_owned())
            )
        );
    }

    #[test]
    fn snake_case_spellings() {
        assert_eq!(super::snake_case("TeamLead"), "team_lead");
        assert_eq!(super::snake_case("team-lead"), "team_lead");
        assert_eq!(super::snake_case("Member"), "member");
        assert_eq!(super::snake_case("already_snake"), "already_snake");
    }
}
