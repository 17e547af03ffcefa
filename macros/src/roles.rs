//! `roles! { member: ["notes:read"], ... }`: the app's RBAC table, declared once at the crate
//! root. Emits a hidden module with one item per role and per permission, so an endpoint's
//! `role = "..."` is resolved by rustc and a typo is an error at the string.
//!
//! `#[registration]` before a role makes it one of the roles a newly registered account gets
//! (identity has no built-in role name: without the attribute, registration grants none).

use std::collections::BTreeSet;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Token, bracketed};

use crate::paths::{RBAC_MODULE, private};
use crate::util::{is_snake_ident, permission_ident};

struct RoleDecl {
    attributes: Vec<syn::Attribute>,
    name: Ident,
    permissions: Punctuated<LitStr, Token![,]>,
}

impl Parse for RoleDecl {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attributes = input.call(syn::Attribute::parse_outer)?;
        let name: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        let content;
        bracketed!(content in input);
        let permissions = content.parse_terminated(|p| p.parse::<LitStr>(), Token![,])?;
        Ok(Self {
            attributes,
            name,
            permissions,
        })
    }
}

struct RolesInput {
    roles: Punctuated<RoleDecl, Token![,]>,
}

impl Parse for RolesInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        Ok(Self {
            roles: input.parse_terminated(RoleDecl::parse, Token![,])?,
        })
    }
}

pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let input: RolesInput = syn::parse2(input)?;
    let mut errors: Option<syn::Error> = None;
    let mut push = |error: syn::Error| match &mut errors {
        Some(all) => all.combine(error),
        None => errors = Some(error),
    };
    let mut role_names = BTreeSet::new();
    let mut permission_idents = BTreeSet::new();
    let mut table = Vec::new();
    let mut registration = Vec::new();
    for role in &input.roles {
        let name = role.name.to_string();
        for attribute in &role.attributes {
            let is_registration = attribute.path().is_ident("registration")
                && matches!(attribute.meta, syn::Meta::Path(_));
            if !is_registration {
                push(syn::Error::new_spanned(
                    attribute,
                    "unknown role attribute\nhelp: the only one is `#[registration]` (the role new accounts get)",
                ));
            } else if name == "admin" {
                push(syn::Error::new_spanned(
                    attribute,
                    "registration cannot grant `admin`: anyone could register an administrator\nhelp: grant `admin` with `rampart::identity::ensure_admin`",
                ));
            } else if registration.contains(&name) {
                push(syn::Error::new_spanned(
                    attribute,
                    format!("`#[registration]` is written twice on `{name}`"),
                ));
            } else {
                registration.push(name.clone());
            }
        }
        if !is_snake_ident(&name) {
            push(syn::Error::new(
                role.name.span(),
                "role names are snake_case: `[a-z][a-z0-9_]*`",
            ));
        }
        if !role_names.insert(name.clone()) {
            push(syn::Error::new(
                role.name.span(),
                format!("role `{name}` is declared twice"),
            ));
        }
        let mut seen = BTreeSet::new();
        let mut permissions = Vec::new();
        for permission in &role.permissions {
            let text = permission.value();
            match permission_ident(&text) {
                Some(ident) => {
                    permission_idents.insert(ident);
                }
                None => push(syn::Error::new(
                    permission.span(),
                    format!(
                        "`{text}` is not a permission name\nhelp: write `resource:action`, e.g. \"tasks:write\""
                    ),
                )),
            }
            if !seen.insert(text.clone()) {
                push(syn::Error::new(
                    permission.span(),
                    format!("`{text}` is listed twice for `{name}`"),
                ));
            }
            permissions.push(text);
        }
        table.push((name, permissions));
    }
    if let Some(errors) = errors {
        return Err(errors);
    }
    // `admin` always exists and holds every permission (checked at runtime).
    if role_names.insert("admin".to_owned()) {
        table.push(("admin".to_owned(), Vec::new()));
    }
    let private = private();
    let module = Ident::new(RBAC_MODULE, Span::call_site());
    let role_items = role_names.iter().map(|name| format_ident!("{}", name));
    let permission_items = permission_idents
        .iter()
        .map(|name| format_ident!("{}", name));
    let entries = table
        .iter()
        .map(|(name, permissions)| quote!((#name, &[#(#permissions),*])));
    Ok(quote! {
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
            pub static TABLE: #private::RbacTable =
                #private::RbacTable::new(&[#(#entries),*]).with_registration(&[#(#registration),*]);
        }
    })
}

/// `rbac!()`: a `&'static RbacTable`, the one `roles!` declared at this crate's root.
pub(crate) fn table(input: TokenStream) -> TokenStream {
    if let Some(token) = input.into_iter().next() {
        return syn::Error::new_spanned(token, "`rbac!()` takes no arguments").into_compile_error();
    }
    let module = Ident::new(RBAC_MODULE, Span::call_site());
    quote!(&crate::#module::TABLE)
}
