//! `#[resource(table = "...", ...)]`: parse (attr) → check (check) → expand (expand).

mod attr;
mod check;
mod expand;

use proc_macro2::TokenStream;
use quote::ToTokens;

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let input: syn::DeriveInput = match syn::parse2(item.clone()) {
        Ok(input) => input,
        Err(_) => {
            let error =
                syn::Error::new_spanned(&item, "#[resource] goes on a struct with named fields");
            let mut out = error.into_compile_error();
            out.extend(item);
            return out;
        }
    };
    let result = attr::parse(args)
        .and_then(|attr| check::check(attr, input.clone()))
        .map(|checked| expand::expand(&checked));
    match result {
        Ok(tokens) => tokens,
        // Fail soft: the struct stays (without the markers only this macro understands, and
        // without serde's, whose derive only the expansion adds), so the only error is ours.
        Err(error) => {
            let mut out = error.write_errors();
            let mut item = without_markers(input);
            item.attrs.retain(|a| !a.path().is_ident("serde"));
            if let syn::Data::Struct(data) = &mut item.data {
                for field in data.fields.iter_mut() {
                    field.attrs.retain(|a| !a.path().is_ident("serde"));
                }
            }
            item.to_tokens(&mut out);
            out
        }
    }
}

/// The struct as written, minus the field attributes only this macro reads (`#[resource]`,
/// and `#[validate]`, which moves to the generated input types).
fn without_markers(mut item: syn::DeriveInput) -> syn::DeriveInput {
    if let syn::Data::Struct(data) = &mut item.data {
        for field in data.fields.iter_mut() {
            field
                .attrs
                .retain(|a| !a.path().is_ident("resource") && !a.path().is_ident("validate"));
        }
    }
    item
}
