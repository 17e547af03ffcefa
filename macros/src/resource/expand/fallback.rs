//! Stand-ins for a rejected `#[resource]` (after thiserror's `fallback.rs`): the struct, its
//! input types, and impls of every trait the real expansion implements, so that code using the
//! resource elsewhere (`Store<Task>`, `Json<NewTask>`, `Api::resource::<Task>()`, a
//! `#[repository(Task)]`) adds no error to the one that rejected it. The bodies never run: the
//! crate does not compile while the error stands.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Names, inputs, spec::spec, without_markers};
use crate::paths::{
    API, API_SCHEMA, CHANGES, PG_ROW, RESOURCE, RESOURCE_ENDPOINTS, RESOURCE_SPEC, SERIALIZE,
    SERIALIZER, SERVER_FIELDS, SQLITE_ROW, SQLX_ERROR, SQLX_FROM_ROW, STATEMENT_CACHE,
    UTOIPA_PARTIAL_SCHEMA, UTOIPA_REF_OR, UTOIPA_SCHEMA, UTOIPA_TO_SCHEMA, UUID, VALUE,
};
use crate::resource::check::Declaration;

/// The struct without what only a successful expansion may keep: the markers, and serde's
/// attributes (serde's derive is not added, so they would be unknown attributes).
fn bare_item(declaration: &Declaration) -> syn::DeriveInput {
    let mut item = without_markers(declaration.input.clone());
    item.attrs.retain(|a| !a.path().is_ident("serde"));
    if let syn::Data::Struct(data) = &mut item.data {
        for field in data.fields.iter_mut() {
            field.attrs.retain(|a| !a.path().is_ident("serde"));
        }
    }
    item
}

/// `Serialize` and the schema traits, which responses need.
fn serialized(ident: &syn::Ident) -> TokenStream {
    let name = ident.to_string();
    quote! {
        #[automatically_derived]
        impl #SERIALIZE for #ident {
            fn serialize<__S: #SERIALIZER>(&self, _: __S) -> ::core::result::Result<__S::Ok, __S::Error> {
                ::core::unreachable!()
            }
        }
        #[automatically_derived]
        impl #API_SCHEMA for #ident {
            fn schema() -> #UTOIPA_REF_OR<#UTOIPA_SCHEMA> {
                ::core::unreachable!()
            }
        }
        #[automatically_derived]
        impl #UTOIPA_PARTIAL_SCHEMA for #ident {
            fn schema() -> #UTOIPA_REF_OR<#UTOIPA_SCHEMA> {
                ::core::unreachable!()
            }
        }
        #[automatically_derived]
        impl #UTOIPA_TO_SCHEMA for #ident {
            fn name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(#name)
            }
        }
    }
}

fn stand_in_resource(declaration: &Declaration, names: &Names) -> TokenStream {
    let ident = &declaration.input.ident;
    let spec = spec(declaration);
    let Names {
        new,
        patch,
        replace,
    } = names;
    let row = |row: TokenStream| {
        quote! {
            #[automatically_derived]
            impl<'r> #SQLX_FROM_ROW<'r, #row> for #ident {
                fn from_row(_: &'r #row) -> ::core::result::Result<Self, #SQLX_ERROR> {
                    ::core::unreachable!()
                }
            }
        }
    };
    let (sqlite, postgres) = (row(quote!(#SQLITE_ROW)), row(quote!(#PG_ROW)));
    let changes = [patch, replace].map(|input| {
        quote! {
            #[automatically_derived]
            impl #CHANGES for #input {
                fn expected_version(&self) -> ::core::option::Option<i64> { ::core::unreachable!() }
                fn into_changes(self) -> ::std::vec::Vec<(&'static str, #VALUE)> { ::core::unreachable!() }
            }
        }
    });
    quote! {
        #[automatically_derived]
        impl #RESOURCE for #ident {
            const SPEC: #RESOURCE_SPEC = #spec;
            type Create = #new;
            type Patch = #patch;
            type Replace = #replace;
            fn values(&self) -> ::std::vec::Vec<#VALUE> { ::core::unreachable!() }
            fn id(&self) -> #UUID { ::core::unreachable!() }
            fn version(&self) -> ::core::option::Option<i64> { ::core::unreachable!() }
            fn sort_value(&self, _: &str) -> ::core::option::Option<#VALUE> { ::core::unreachable!() }
            fn statements() -> &'static #STATEMENT_CACHE { ::core::unreachable!() }
            fn assemble(_: #new, _: #SERVER_FIELDS) -> Self { ::core::unreachable!() }
        }
        #sqlite
        #postgres
        #(#changes)*
    }
}

/// The errors, then the stand-ins.
pub(crate) fn expand(error: TokenStream, declaration: &Declaration) -> TokenStream {
    let names = Names::of(declaration);
    let ident = &declaration.input.ident;
    let item = bare_item(declaration);
    if !declaration.input.generics.params.is_empty() {
        // Impls would need the parameters the error asks to remove.
        return quote!(#error #item);
    }
    let serialized = serialized(ident);
    let types = inputs::inputs(declaration, &names).types;
    let resource = stand_in_resource(declaration, &names);
    let endpoints = declaration.endpoints_declared.then(|| {
        quote! {
            #[automatically_derived]
            impl #RESOURCE_ENDPOINTS for #ident {
                fn mount(_: #API) -> #API { ::core::unreachable!() }
            }
        }
    });
    quote! {
        #error
        #item
        #serialized
        #types
        #resource
        #endpoints
    }
}
