//! `roles! { member: ["notes:read"], ... }`: the app's RBAC table, declared once at the crate
//! root. Emits a hidden module with one item per role and per permission, so an endpoint's
//! `role = "..."` is resolved by rustc and a typo is an error at the string.
//!
//! `#[registration]` before a role makes it one of the roles a newly registered account gets
//! (identity has no built-in role name: without the attribute, registration grants none).
//!
//! Fail soft: each role is parsed on its own (a mistake in one does not hide the others), and
//! the module is emitted with every role that parsed next to the errors, so the role checks
//! of the crate's endpoints add no second error.

use std::collections::BTreeSet;

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::{Ident, LitStr};

use crate::paths::{IS_CRATE_ROOT, RBAC_MODULE, RBAC_TABLE};
use crate::util::{is_snake_ident, permission_ident, snake_case};

/// The private alias `roles!` puts next to its module at the crate root. Endpoints import the
/// module through it, so without a `roles!` at the root the one error names what is missing:
/// "unresolved import `crate::__rampart_roles_missing_add_rampart_roles_at_crate_root`".
const ROLES_ANCHOR: &str = "__rampart_roles_missing_add_rampart_roles_at_crate_root";

/// `use crate::<anchor> as __rampart_rbac;`, spanned at `span` (the role or permission string
/// that needs the table). Its failure is the one error: rustc reports no use of a failed import.
pub(crate) fn rbac_import(span: Span) -> TokenStream {
    let anchor = Ident::new(ROLES_ANCHOR, span);
    quote_spanned! {span=>
        #[allow(unused_imports)]
        use crate::#anchor as __rampart_rbac;
    }
}

const ROLE_FORM: &str = "help: write a role as `name: [\"resource:action\", ...]`, e.g. `member: [\"notes:read\", \"notes:write\"]`";

struct RoleDecl {
    attributes: Vec<syn::Attribute>,
    name: Ident,
    permissions: Vec<LitStr>,
}

/// Splits the input at top-level commas: one segment per role.
fn segments(input: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut all = vec![Vec::new()];
    for token in input {
        match &token {
            TokenTree::Punct(punct) if punct.as_char() == ',' => all.push(Vec::new()),
            _ => all.last_mut().map_or((), |segment| segment.push(token)),
        }
    }
    all
}

/// Parses one role; the error names what the role is missing and how it is written.
fn parse_role(tokens: Vec<TokenTree>, errors: &mut Vec<syn::Error>) -> Option<RoleDecl> {
    let mut rest = tokens.as_slice();
    let mut attributes = Vec::new();
    while let [TokenTree::Punct(pound), TokenTree::Group(group), tail @ ..] = rest {
        if pound.as_char() != '#' || group.delimiter() != Delimiter::Bracket {
            break;
        }
        let stream: TokenStream = [rest[0].clone(), rest[1].clone()].into_iter().collect();
        match syn::parse::Parser::parse2(syn::Attribute::parse_outer, stream) {
            Ok(parsed) => attributes.extend(parsed),
            Err(error) => errors.push(error),
        }
        rest = tail;
    }
    let (name, after_name) = match rest {
        [TokenTree::Ident(name), tail @ ..] => (name.clone(), tail),
        [first, ..] => {
            errors.push(syn::Error::new(
                first.span(),
                format!("expected a role name, found `{first}`\n{ROLE_FORM}"),
            ));
            return None;
        }
        [] => {
            let span = tokens.last().map_or_else(Span::call_site, TokenTree::span);
            errors.push(syn::Error::new(
                span,
                format!("expected a role name\n{ROLE_FORM}"),
            ));
            return None;
        }
    };
    let list = match after_name {
        [TokenTree::Punct(colon), TokenTree::Group(list), tail @ ..]
            if colon.as_char() == ':' && list.delimiter() == Delimiter::Bracket =>
        {
            if let Some(extra) = tail.first() {
                errors.push(syn::Error::new(
                    extra.span(),
                    format!("unexpected `{extra}` after the permissions of `{name}`\nhelp: separate roles with `,`"),
                ));
            }
            list.clone()
        }
        [TokenTree::Punct(colon), other, ..] if colon.as_char() == ':' => {
            errors.push(syn::Error::new(
                other.span(),
                format!("the permissions of `{name}` are a list of strings\nhelp: write `{name}: [\"resource:action\", ...]` (`[]` for none)"),
            ));
            return None;
        }
        other => {
            let span = other.first().map_or(name.span(), TokenTree::span);
            errors.push(syn::Error::new(
                span,
                format!("expected `:` and the permissions of `{name}`\nhelp: write `{name}: [\"resource:action\", ...]` (`[]` for none)"),
            ));
            return None;
        }
    };
    let mut permissions = Vec::new();
    for item in segments(list.stream())
        .into_iter()
        .filter(|s| !s.is_empty())
    {
        let stream: TokenStream = item.iter().cloned().collect();
        match syn::parse2::<LitStr>(stream) {
            Ok(literal) => permissions.push(literal),
            Err(_) => errors.push(syn::Error::new(
                item[0].span(),
                format!("a permission is a string: `\"resource:action\"`\nhelp: quote it, e.g. `{name}: [\"notes:read\"]`"),
            )),
        }
    }
    Some(RoleDecl {
        attributes,
        name,
        permissions,
    })
}

/// What the declaration defines once its mistakes are left out.
#[derive(Default)]
struct Table {
    role_names: BTreeSet<String>,
    permission_idents: BTreeSet<String>,
    entries: Vec<(String, Vec<String>)>,
    registration: Vec<String>,
}

fn check_role(role: &RoleDecl, table: &mut Table, errors: &mut Vec<syn::Error>) {
    let name = role.name.to_string();
    for attribute in &role.attributes {
        let is_registration = attribute.path().is_ident("registration")
            && matches!(attribute.meta, syn::Meta::Path(_));
        if !is_registration {
            errors.push(syn::Error::new_spanned(
                attribute,
                "unknown role attribute\nhelp: the only one is `#[registration]` (the role new accounts get)",
            ));
        } else if name == "admin" {
            errors.push(syn::Error::new_spanned(
                attribute,
                "registration cannot grant `admin`: anyone could register an administrator\nhelp: grant `admin` with `rampart::identity::ensure_admin`",
            ));
        } else if table.registration.contains(&name) {
            errors.push(syn::Error::new_spanned(
                attribute,
                format!("`#[registration]` is written twice on `{name}`\nhelp: remove one"),
            ));
        } else {
            table.registration.push(name.clone());
        }
    }
    if !is_snake_ident(&name) {
        errors.push(syn::Error::new(
            role.name.span(),
            format!(
                "role names are snake_case: `[a-z][a-z0-9_]*`\nhelp: write `{}`",
                snake_case(&name)
            ),
        ));
    }
    if !table.role_names.insert(name.clone()) {
        errors.push(syn::Error::new(
            role.name.span(),
            format!("role `{name}` is declared twice\nhelp: list all of its permissions in one declaration"),
        ));
        return;
    }
    let mut seen = BTreeSet::new();
    let mut permissions = Vec::new();
    for permission in &role.permissions {
        let text = permission.value();
        let Some(ident) = permission_ident(&text) else {
            errors.push(syn::Error::new(
                permission.span(),
                format!(
                    "`{text}` is not a permission name\nhelp: write `resource:action`, e.g. \"tasks:write\""
                ),
            ));
            continue;
        };
        if !seen.insert(text.clone()) {
            errors.push(syn::Error::new(
                permission.span(),
                format!("`{text}` is listed twice for `{name}`\nhelp: remove one"),
            ));
            continue;
        }
        table.permission_idents.insert(ident);
        permissions.push(text);
    }
    table.entries.push((name, permissions));
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let mut errors = Vec::new();
    let mut table = Table::default();
    // Segment `i` ends at the `i`-th top-level comma: an empty one is reported at its comma.
    let commas: Vec<Span> = input
        .clone()
        .into_iter()
        .filter_map(|token| match token {
            TokenTree::Punct(punct) if punct.as_char() == ',' => Some(punct.span()),
            _ => None,
        })
        .collect();
    let segments = segments(input);
    let last = segments.len().saturating_sub(1);
    for (index, segment) in segments.into_iter().enumerate() {
        if segment.is_empty() {
            // A trailing comma (or an empty invocation) is fine; `a: [], , b: []` is not.
            if index != last {
                errors.push(syn::Error::new(
                    commas.get(index).copied().unwrap_or_else(Span::call_site),
                    "an empty role between two commas\nhelp: remove the extra `,`",
                ));
            }
            continue;
        }
        if let Some(role) = parse_role(segment, &mut errors) {
            check_role(&role, &mut table, &mut errors);
        }
    }
    let mut out = errors
        .into_iter()
        .reduce(|mut all, error| {
            all.combine(error);
            all
        })
        .map(syn::Error::into_compile_error)
        .unwrap_or_default();
    out.extend(module(table));
    out
}

fn module(mut table: Table) -> TokenStream {
    // `admin` always exists and holds every permission (checked at runtime).
    if table.role_names.insert("admin".to_owned()) {
        table.entries.push(("admin".to_owned(), Vec::new()));
    }
    let module = Ident::new(RBAC_MODULE, Span::call_site());
    let anchor = Ident::new(ROLES_ANCHOR, Span::call_site());
    let role_items = table
        .role_names
        .iter()
        .map(|name| format_ident!("{}", name));
    let permission_items = table
        .permission_idents
        .iter()
        .map(|name| format_ident!("{}", name));
    let entries = table
        .entries
        .iter()
        .map(|(name, permissions)| quote!((#name, &[#(#permissions),*])));
    let registration = &table.registration;
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code, missing_docs, unreachable_pub)]
        pub mod #module {
            /// One unit struct per role, so endpoints can name roles rustc checks.
            pub mod roles {
                #( #[derive(::core::clone::Clone, ::core::marker::Copy)] pub struct #role_items; )*
            }
            /// One unit struct per permission (`tasks:write` is `tasks__write`).
            pub mod permissions {
                #( #[derive(::core::clone::Clone, ::core::marker::Copy)] pub struct #permission_items; )*
            }
            /// The table the permission checks read.
            pub static TABLE: #RBAC_TABLE =
                #RBAC_TABLE::new(&[#(#entries),*]).with_registration(&[#(#registration),*]);
        }

        // Private, so a `roles!` in another module is not offered as an import: its own
        // assertion below says where it belongs.
        #[doc(hidden)]
        #[allow(unused_imports)]
        use self::#module as #anchor;

        const _: () = ::core::assert!(
            #IS_CRATE_ROOT(::core::module_path!()),
            "`rampart::roles!` is called inside a module: endpoints find the roles at the crate root\nhelp: move this `roles!` to the crate root (lib.rs or main.rs)"
        );
    }
}

/// `rbac!()`: a `&'static RbacTable`, the one `roles!` declared at this crate's root.
pub(crate) fn table(input: TokenStream) -> TokenStream {
    if let Some(token) = input.into_iter().next() {
        return syn::Error::new_spanned(
            token,
            "`rbac!()` takes no arguments\nhelp: write `rampart::rbac!()`; it is the table `roles!` declared at the crate root",
        )
        .into_compile_error();
    }
    let import = rbac_import(Span::call_site());
    quote!({
        #import
        &__rampart_rbac::TABLE
    })
}
