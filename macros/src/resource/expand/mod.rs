//! Code generation for a resource: the struct (with `Serialize` and `Schema`), its three input
//! types and their `Changes` impls (`inputs`), the `Resource` impl around its `ResourceSpec`
//! (`spec`, `rows`), row decoding for both backends (`rows`) and — with `endpoints(...)` — six
//! `#[endpoint]`s over the generic store (`endpoints`). A rejected declaration gets stand-ins
//! instead (`fallback`).

mod endpoints;
pub(super) mod fallback;
mod inputs;
mod rows;
mod spec;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::Ident;

use super::check::{CheckedResource, Declaration};
use super::fields::{CheckedField, Role};
use crate::paths::{INTO_VALUE, SCHEMA_DERIVE, SERDE, SERIALIZE, VALUE};

/// The names of the generated input types: `NewTask`, `TaskPatch`, `TaskReplace`.
pub(super) struct Names {
    pub(super) new: Ident,
    pub(super) patch: Ident,
    pub(super) replace: Ident,
}

impl Names {
    pub(super) fn of(declaration: &Declaration) -> Self {
        let ident = &declaration.input.ident;
        Self {
            new: format_ident!("New{}", ident),
            patch: format_ident!("{}Patch", ident),
            replace: format_ident!("{}Replace", ident),
        }
    }
}

/// `Some(value)` / `None`, spelled absolutely.
pub(super) fn option(value: Option<TokenStream>) -> TokenStream {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

/// The bound value of a field of the row (`self.x`, borrowed) or of an input (owned).
pub(super) fn bind_value(field: &CheckedField, place: TokenStream, borrowed: bool) -> TokenStream {
    match (field.json, field.option_of.is_some(), borrowed) {
        (true, false, _) => quote!(#VALUE::json(&#place)),
        (true, true, _) => quote!(#VALUE::json_option(&#place)),
        (false, _, true) => quote!(#INTO_VALUE::into_value(&#place)),
        (false, _, false) => quote!(#INTO_VALUE::into_value(#place)),
    }
}

/// The struct as written, minus the field attributes only this macro reads (`#[resource]`,
/// and `#[validate]`, which moves to the generated input types).
pub(super) fn without_markers(mut item: syn::DeriveInput) -> syn::DeriveInput {
    if let syn::Data::Struct(data) = &mut item.data {
        for field in data.fields.iter_mut() {
            field
                .attrs
                .retain(|a| !a.path().is_ident("resource") && !a.path().is_ident("validate"));
        }
    }
    item
}

/// The user's struct, serializable and documented; internal fields stay out of both.
fn item(declaration: &Declaration) -> TokenStream {
    let mut item = without_markers(declaration.input.clone());
    if let syn::Data::Struct(data) = &mut item.data {
        for (field, checked) in data.fields.iter_mut().zip(&declaration.fields) {
            if checked.role == Role::Internal {
                // Out of the JSON and, through `Schema`, out of the OpenAPI document.
                field
                    .attrs
                    .push(syn::parse_quote!(#[serde(skip_serializing)]));
            }
        }
    }
    let serde = SERDE.lit();
    quote! {
        #[derive(#SERIALIZE, #SCHEMA_DERIVE)]
        #[serde(crate = #serde)]
        #item
    }
}

pub(crate) fn expand(resource: &CheckedResource) -> TokenStream {
    let declaration = &resource.declaration;
    let names = Names::of(declaration);
    let item = item(declaration);
    let inputs = inputs::inputs(declaration, &names);
    let (types, changes) = (&inputs.types, &inputs.changes);
    let resource_impl = rows::resource_impl(declaration, &names);
    let from_row = rows::from_row_impls(declaration);
    let endpoints = resource
        .endpoints
        .as_ref()
        .map(|endpoints| endpoints::crud_endpoints(declaration, &names, endpoints))
        .unwrap_or_default();
    quote! {
        #item
        #types
        #changes
        #resource_impl
        #from_row
        #endpoints
    }
}
