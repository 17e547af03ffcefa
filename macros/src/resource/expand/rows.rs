//! The `Resource` impl (spec, values, id, version, sort values, assembling a new row) and
//! row decoding on both backends.

use proc_macro2::TokenStream;
use quote::quote;

use super::inputs::input_name;
use super::{Names, bind_value, option, spec::spec};
use crate::paths::{
    INTO_VALUE, PG_ROW, RESOURCE, RESOURCE_SPEC, SERVER_FIELDS, SQLITE_ROW, SQLX_ERROR,
    SQLX_FROM_ROW, SQLX_JSON, SQLX_ROW, STATEMENT_CACHE, UUID, VALUE,
};
use crate::resource::check::Declaration;
use crate::resource::fields::Role;

/// The row's value for each sortable column (and the id), for cursors.
fn sort_arms(declaration: &Declaration) -> Vec<TokenStream> {
    declaration
        .fields
        .iter()
        .filter(|f| f.sort || f.role == Role::Id)
        .map(|f| {
            let name = &f.ident;
            let column = name.to_string();
            quote!(#column => ::core::option::Option::Some(#INTO_VALUE::into_value(&self.#name)),)
        })
        .collect()
}

/// A new row: the client's fields from the create input, the rest from the server.
fn assemble(declaration: &Declaration) -> Vec<TokenStream> {
    declaration
        .fields
        .iter()
        .map(|f| {
            let name = &f.ident;
            match f.role {
                Role::Id => quote!(#name: server.id),
                Role::Owner => quote!(#name: server.owner),
                Role::Parent(_) => quote!(#name: server.parent.unwrap_or_default()),
                Role::Version => quote!(#name: 1),
                Role::CreatedAt | Role::UpdatedAt => quote!(#name: server.now),
                Role::ReadOnly | Role::Internal => {
                    quote!(#name: ::core::default::Default::default())
                }
                Role::Writable => {
                    let (input_name, _) = input_name(f);
                    quote!(#name: input.#input_name)
                }
            }
        })
        .collect()
}

pub(super) fn resource_impl(declaration: &Declaration, names: &Names) -> TokenStream {
    let ident = &declaration.input.ident;
    let spec = spec(declaration);
    let Names {
        new,
        patch,
        replace,
    } = names;
    let values = declaration.fields.iter().map(|field| {
        let name = &field.ident;
        bind_value(field, quote!(self.#name), true)
    });
    let id = declaration
        .fields
        .iter()
        .find(|f| f.role == Role::Id)
        .map(|f| &f.ident);
    let version = option(
        declaration
            .fields
            .iter()
            .find(|f| f.role == Role::Version)
            .map(|f| {
                let name = &f.ident;
                quote!(self.#name)
            }),
    );
    let (sort_arms, assemble) = (sort_arms(declaration), assemble(declaration));
    quote! {
        #[automatically_derived]
        impl #RESOURCE for #ident {
            const SPEC: #RESOURCE_SPEC = #spec;
            type Create = #new;
            type Patch = #patch;
            type Replace = #replace;

            fn values(&self) -> ::std::vec::Vec<#VALUE> {
                ::std::vec![#(#values),*]
            }
            fn id(&self) -> #UUID {
                self.#id
            }
            fn version(&self) -> ::core::option::Option<i64> {
                #version
            }
            fn sort_value(&self, column: &str) -> ::core::option::Option<#VALUE> {
                match column {
                    #(#sort_arms)*
                    _ => ::core::option::Option::None,
                }
            }
            fn statements() -> &'static #STATEMENT_CACHE {
                static STATEMENTS: #STATEMENT_CACHE = #STATEMENT_CACHE::new();
                &STATEMENTS
            }
            fn assemble(input: #new, server: #SERVER_FIELDS) -> Self {
                let _ = &input;
                Self { #(#assemble),* }
            }
        }
    }
}

/// `FromRow` for SQLite and PostgreSQL rows: columns by name, JSON columns through sqlx's
/// `Json`.
pub(super) fn from_row_impls(declaration: &Declaration) -> TokenStream {
    let ident = &declaration.input.ident;
    let fields: Vec<TokenStream> = declaration
        .fields
        .iter()
        .map(|field| {
            let name = &field.ident;
            let column = name.to_string();
            match (&field.option_of, field.json) {
                (_, false) => quote!(#name: __rampart_row.try_get(#column)?),
                (None, true) => {
                    let ty = &field.ty;
                    quote!(#name: __rampart_row.try_get::<#SQLX_JSON<#ty>, _>(#column)?.0)
                }
                (Some(inner), true) => quote! {
                    #name: __rampart_row
                        .try_get::<::core::option::Option<#SQLX_JSON<#inner>>, _>(#column)?
                        .map(|json| json.0)
                },
            }
        })
        .collect();
    let backend = |row: TokenStream| {
        quote! {
            #[automatically_derived]
            impl<'r> #SQLX_FROM_ROW<'r, #row> for #ident {
                fn from_row(__rampart_row: &'r #row) -> ::core::result::Result<Self, #SQLX_ERROR> {
                    use #SQLX_ROW as _;
                    ::core::result::Result::Ok(Self { #(#fields),* })
                }
            }
        }
    };
    let (sqlite, postgres) = (backend(quote!(#SQLITE_ROW)), backend(quote!(#PG_ROW)));
    quote!(#sqlite #postgres)
}
