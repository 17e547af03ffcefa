//! `#[derive(rampart::Schema)]`: the OpenAPI schema of a struct, with its `#[validate]` rules
//! as constraints (length → minLength/maxLength or minItems/maxItems, range →
//! minimum/maximum, email → format email, url → format uri) and doc comments as descriptions.
//! `#[schema(pattern = "...")]` documents a `regex` rule (whose pattern lives in a static).

use darling::FromMeta;
use darling::ast::NestedMeta;
use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Type};

use crate::paths::private;
use crate::util::{doc_text, summary_and_description, type_head};

#[derive(Debug, Default, FromMeta)]
struct LengthRule {
    min: Option<syn::Expr>,
    max: Option<syn::Expr>,
    equal: Option<syn::Expr>,
}

#[derive(Debug, Default, FromMeta)]
struct RangeRule {
    min: Option<syn::Expr>,
    max: Option<syn::Expr>,
    exclusive_min: Option<syn::Expr>,
    exclusive_max: Option<syn::Expr>,
}

#[derive(Debug, Default, FromMeta)]
#[darling(allow_unknown_fields)]
struct SchemaFieldAttr {
    pattern: Option<syn::LitStr>,
    /// `#[schema(non_null)]`: may be left out, never `null` (documented as the type alone).
    #[darling(default)]
    non_null: darling::util::Flag,
}

fn is_option(ty: &Type) -> bool {
    type_head(ty).is_some_and(|(head, _)| head == "Option")
}

/// serde's naming rules that change a field's JSON name.
fn serde_field(attrs: &[syn::Attribute]) -> syn::Result<(Option<String>, bool, bool)> {
    let mut rename = None;
    let mut default = false;
    let mut skip = false;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let value: syn::LitStr = meta.value()?.parse()?;
                rename = Some(value.value());
            } else if meta.path.is_ident("default") {
                default = true;
                if meta.input.peek(syn::Token![=]) {
                    let _: syn::Expr = meta.value()?.parse()?;
                }
            } else if meta.path.is_ident("skip") || meta.path.is_ident("skip_serializing") {
                skip = true;
            } else if meta.path.is_ident("flatten") {
                return Err(meta.error("rampart::Schema does not support `#[serde(flatten)]`\nhelp: list the fields in the struct"));
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            } else if meta.input.peek(syn::token::Paren) {
                let _content;
                syn::parenthesized!(_content in meta.input);
                let _: TokenStream = _content.parse()?;
            }
            Ok(())
        })?;
    }
    Ok((rename, default, skip))
}

/// serde's container rules the schema mirrors: `rename_all`, `default`, and
/// `deny_unknown_fields` (then the object is closed: `additionalProperties: false`).
fn container_serde(attrs: &[syn::Attribute]) -> syn::Result<(Option<syn::LitStr>, bool, bool)> {
    let mut rename_all = None;
    let mut default = false;
    let mut closed = false;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename_all") {
                rename_all = Some(meta.value()?.parse::<syn::LitStr>()?);
            } else if meta.path.is_ident("default") {
                default = true;
            } else if meta.path.is_ident("deny_unknown_fields") {
                closed = true;
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            } else if meta.input.peek(syn::token::Paren) {
                let _content;
                syn::parenthesized!(_content in meta.input);
                let _: TokenStream = _content.parse()?;
            }
            Ok(())
        })?;
    }
    Ok((rename_all, default, closed))
}

pub(crate) fn rename(name: &str, rule: &syn::LitStr) -> syn::Result<String> {
    let words: Vec<&str> = name.split('_').filter(|w| !w.is_empty()).collect();
    let capitalize = |w: &str| {
        let mut chars = w.chars();
        chars
            .next()
            .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
            .unwrap_or_default()
    };
    Ok(match rule.value().as_str() {
        "snake_case" | "lowercase" => name.to_owned(),
        "camelCase" => words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i == 0 {
                    (*w).to_owned()
                } else {
                    capitalize(w)
                }
            })
            .collect(),
        "PascalCase" => words.iter().map(|w| capitalize(w)).collect(),
        "kebab-case" => words.join("-"),
        "SCREAMING_SNAKE_CASE" | "UPPERCASE" => name.to_ascii_uppercase(),
        _ => {
            return Err(syn::Error::new(
                rule.span(),
                "rampart::Schema supports rename_all = snake_case, camelCase, PascalCase, kebab-case, SCREAMING_SNAKE_CASE",
            ));
        }
    })
}

fn constraints(attrs: &[syn::Attribute]) -> syn::Result<Vec<TokenStream>> {
    let p = private();
    let mut out = Vec::new();
    let number = |expr: &syn::Expr| quote!((#expr) as f64);
    let count = |expr: &syn::Expr| quote!((#expr) as usize);
    for attr in attrs.iter().filter(|a| a.path().is_ident("validate")) {
        let syn::Meta::List(list) = &attr.meta else {
            continue;
        };
        let items = NestedMeta::parse_meta_list(list.tokens.clone())?;
        for item in items {
            let NestedMeta::Meta(meta) = item else {
                continue;
            };
            let name = meta
                .path()
                .get_ident()
                .map(|i| i.to_string())
                .unwrap_or_default();
            match name.as_str() {
                "length" => {
                    let rule = LengthRule::from_meta(&meta).map_err(syn::Error::from)?;
                    if let Some(equal) = &rule.equal {
                        let n = count(equal);
                        out.push(quote!(#p::Constraint::MinLength(#n)));
                        out.push(quote!(#p::Constraint::MaxLength(#n)));
                    }
                    if let Some(min) = &rule.min {
                        let n = count(min);
                        out.push(quote!(#p::Constraint::MinLength(#n)));
                    }
                    if let Some(max) = &rule.max {
                        let n = count(max);
                        out.push(quote!(#p::Constraint::MaxLength(#n)));
                    }
                }
                "range" => {
                    let rule = RangeRule::from_meta(&meta).map_err(syn::Error::from)?;
                    // Exclusive bounds stay exclusive in the document (exclusiveMinimum is a
                    // number in OpenAPI 3.1): documenting them as minimum/maximum would tell
                    // clients the bound itself is accepted.
                    if let Some(min) = &rule.min {
                        let n = number(min);
                        out.push(quote!(#p::Constraint::Minimum(#n)));
                    }
                    if let Some(min) = &rule.exclusive_min {
                        let n = number(min);
                        out.push(quote!(#p::Constraint::ExclusiveMinimum(#n)));
                    }
                    if let Some(max) = &rule.max {
                        let n = number(max);
                        out.push(quote!(#p::Constraint::Maximum(#n)));
                    }
                    if let Some(max) = &rule.exclusive_max {
                        let n = number(max);
                        out.push(quote!(#p::Constraint::ExclusiveMaximum(#n)));
                    }
                }
                "email" => out.push(quote!(#p::Constraint::Email)),
                "url" => out.push(quote!(#p::Constraint::Url)),
                _ => {}
            }
        }
    }
    for attr in attrs.iter().filter(|a| a.path().is_ident("schema")) {
        let syn::Meta::List(list) = &attr.meta else {
            return Err(syn::Error::new(
                attr.span(),
                "expected `#[schema(pattern = \"...\")]`",
            ));
        };
        let items = NestedMeta::parse_meta_list(list.tokens.clone())?;
        let field = SchemaFieldAttr::from_list(&items).map_err(syn::Error::from)?;
        if let Some(pattern) = field.pattern {
            out.push(quote!(#p::Constraint::Pattern(#pattern)));
        }
        if field.non_null.is_present() {
            out.push(quote!(#p::Constraint::NonNull));
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
        out.push(quote!(#p::Constraint::AllowControl));
    }
    Ok(out)
}

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            input.ident.span(),
            "rampart::Schema is derived on structs with named fields",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new(
            data.fields.span(),
            "rampart::Schema needs named fields\nhelp: write `struct Name { field: Type }`",
        ));
    };
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "rampart::Schema does not support generic structs",
        ));
    }
    let (rename_all, container_default, closed) = container_serde(&input.attrs)?;
    let p = private();
    let mut field_docs = Vec::new();
    let mut errors: Option<syn::Error> = None;
    for field in &fields.named {
        let Some(ident) = &field.ident else { continue };
        let result = (|| -> syn::Result<Option<TokenStream>> {
            let (renamed, default, skip) = serde_field(&field.attrs)?;
            if skip {
                return Ok(None);
            }
            let raw = ident.to_string().trim_start_matches("r#").to_owned();
            let json_name = match (renamed, &rename_all) {
                (Some(name), _) => name,
                (None, Some(rule)) => rename(&raw, rule)?,
                (None, None) => raw,
            };
            let ty = &field.ty;
            let required = !(is_option(ty) || default || container_default);
            let (summary, _) = summary_and_description(&doc_text(&field.attrs));
            let description = match summary {
                Some(text) => quote!(::core::option::Option::Some(#text)),
                None => quote!(::core::option::Option::None),
            };
            let rules = constraints(&field.attrs)?;
            Ok(Some(quote! {
                #p::FieldDoc {
                    name: #json_name,
                    schema: <#ty as #p::ApiSchema>::schema(),
                    required: #required,
                    description: #description,
                    constraints: &[#(#rules),*],
                }
            }))
        })();
        match result {
            Ok(Some(tokens)) => field_docs.push(tokens),
            Ok(None) => {}
            Err(error) => match &mut errors {
                Some(all) => all.combine(error),
                None => errors = Some(error),
            },
        }
    }
    if let Some(errors) = errors {
        return Err(errors);
    }
    let name = &input.ident;
    let name_text = name.to_string();
    let (summary, _) = summary_and_description(&doc_text(&input.attrs));
    let description = match summary {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::None),
    };
    Ok(quote! {
        #[automatically_derived]
        impl #p::ApiSchema for #name {
            fn schema() -> #p::utoipa::openapi::RefOr<#p::utoipa::openapi::schema::Schema> {
                #p::object_schema(#description, #closed, ::std::vec![#(#field_docs),*])
            }
        }

        #[automatically_derived]
        impl #p::utoipa::PartialSchema for #name {
            fn schema() -> #p::utoipa::openapi::RefOr<#p::utoipa::openapi::schema::Schema> {
                <#name as #p::ApiSchema>::schema()
            }
        }

        #[automatically_derived]
        impl #p::utoipa::ToSchema for #name {
            fn name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(#name_text)
            }
        }
    })
}
