//! `#[derive(rampart::Schema)]`: the OpenAPI schema of a struct, with its `#[validate]` rules
//! as constraints (length → minLength/maxLength or minItems/maxItems, range →
//! minimum/maximum, email → format email, url → format uri) and doc comments as descriptions.
//! `#[schema(pattern = "...")]` documents a `regex` rule (whose pattern lives in a static).

//!
//! Mistakes are reported together, each at its token; the impls are emitted either way (as
//! stand-ins when something is wrong), so a type used as a body elsewhere adds no error.

mod rules;

use darling::Error;
use darling::error::Accumulator;
use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Type};

use crate::paths::{
    API_SCHEMA, FIELD_DOC, OBJECT_SCHEMA, UTOIPA_PARTIAL_SCHEMA, UTOIPA_REF_OR, UTOIPA_SCHEMA,
    UTOIPA_TO_SCHEMA,
};
use crate::util::{doc_text, summary_and_description, type_head};

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
                "rampart does not know this `rename_all` rule\nhelp: use \"snake_case\", \"camelCase\", \"PascalCase\", \"kebab-case\" or \"SCREAMING_SNAKE_CASE\"",
            ));
        }
    })
}

/// The struct's named fields, or the error at what makes it no such struct.
fn named_fields(input: &DeriveInput) -> Result<&syn::FieldsNamed, Error> {
    let data = match &input.data {
        Data::Struct(data) => data,
        Data::Enum(data) => {
            return Err(Error::custom(
                "rampart::Schema is derived on structs with named fields, not enums\nhelp: derive utoipa's `ToSchema` for an enum, or wrap its values in a struct",
            )
            .with_span(&data.enum_token));
        }
        Data::Union(data) => {
            return Err(Error::custom(
                "rampart::Schema is derived on structs with named fields, not unions\nhelp: derive it on a struct with named fields; a union has no JSON form",
            )
            .with_span(&data.union_token));
        }
    };
    match &data.fields {
        Fields::Named(fields) => Ok(fields),
        fields => Err(Error::custom(
            "rampart::Schema needs named fields\nhelp: write `struct Name { field: Type }`",
        )
        .with_span(&fields.span())),
    }
}

/// One field's `FieldDoc`, or `None` for a field serde skips.
fn field_doc(
    field: &syn::Field,
    rename_all: Option<&syn::LitStr>,
    container_default: bool,
    errors: &mut Accumulator,
) -> Option<TokenStream> {
    let ident = field.ident.as_ref()?;
    let (renamed, default, skip) = errors.handle(serde_field(&field.attrs).map_err(Error::from))?;
    if skip {
        return None;
    }
    let raw = ident.to_string().trim_start_matches("r#").to_owned();
    let json_name = match (renamed, rename_all) {
        (Some(name), _) => name,
        (None, Some(rule)) => errors
            .handle(rename(&raw, rule).map_err(Error::from))
            .unwrap_or(raw),
        (None, None) => raw,
    };
    let ty = &field.ty;
    let required = !(is_option(ty) || default || container_default);
    let description = description(&field.attrs);
    let rules = rules::constraints(&field.attrs, errors);
    Some(quote! {
        #FIELD_DOC {
            name: #json_name,
            schema: <#ty as #API_SCHEMA>::schema(),
            required: #required,
            description: #description,
            constraints: &[#(#rules),*],
        }
    })
}

/// The first paragraph of the doc comment, as an `Option<&str>` expression.
fn description(attrs: &[syn::Attribute]) -> TokenStream {
    match summary_and_description(&doc_text(attrs)).0 {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::None),
    }
}

/// `ApiSchema` (the real one, or `body` stand-in) and utoipa's traits on top of it.
fn impls(input: &DeriveInput, body: TokenStream) -> TokenStream {
    let name = &input.ident;
    let name_text = name.to_string();
    quote! {
        #[automatically_derived]
        impl #API_SCHEMA for #name {
            fn schema() -> #UTOIPA_REF_OR<#UTOIPA_SCHEMA> {
                #body
            }
        }

        #[automatically_derived]
        impl #UTOIPA_PARTIAL_SCHEMA for #name {
            fn schema() -> #UTOIPA_REF_OR<#UTOIPA_SCHEMA> {
                <#name as #API_SCHEMA>::schema()
            }
        }

        #[automatically_derived]
        impl #UTOIPA_TO_SCHEMA for #name {
            fn name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(#name_text)
            }
        }
    }
}

fn object_schema(input: &DeriveInput, errors: &mut Accumulator) -> Option<TokenStream> {
    let fields = errors.handle(named_fields(input))?;
    if !input.generics.params.is_empty() {
        errors.push(
            Error::custom("rampart::Schema does not support generic structs\nhelp: derive it on each concrete struct")
                .with_span(&input.generics),
        );
    }
    let (rename_all, container_default, closed) =
        errors.handle(container_serde(&input.attrs).map_err(Error::from))?;
    let field_docs: Vec<TokenStream> = fields
        .named
        .iter()
        .filter_map(|field| field_doc(field, rename_all.as_ref(), container_default, errors))
        .collect();
    let description = description(&input.attrs);
    Some(quote!(#OBJECT_SCHEMA(#description, #closed, ::std::vec![#(#field_docs),*])))
}

pub(crate) fn expand(input: &DeriveInput) -> TokenStream {
    let mut errors = Error::accumulator();
    let schema = object_schema(input, &mut errors);
    match (errors.finish(), schema) {
        (Ok(()), Some(schema)) => impls(input, schema),
        (result, _) => {
            let error = result.err().map(Error::write_errors).unwrap_or_default();
            // Generic parameters the impls would need are what the error is about.
            if !input.generics.params.is_empty() {
                return error;
            }
            // Stand-ins: the crate does not compile while the error stands, so they never run.
            let stand_in = impls(input, quote!(::core::unreachable!()));
            quote!(#error #stand_in)
        }
    }
}
