//! What a rejected `#[endpoint]` leaves in place of the fn (fail soft): a unit struct under
//! the fn's name implementing `Endpoint` with a definition that routes nothing, so every
//! `Api::mount` of it compiles and the macro's error is the only one. The fn stays inside,
//! unchanged, so mistakes in its body are still reported.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

use crate::paths::{ENDPOINT, ENDPOINT_DEF, REJECTED_ENDPOINT};

pub(crate) fn stand_in(function: &syn::ItemFn) -> TokenStream {
    // A method cannot leave a struct in an impl block; it stays as written.
    if function.sig.receiver().is_some() {
        return function.to_token_stream();
    }
    let vis = &function.vis;
    let name = &function.sig.ident;
    let operation_id = name.to_string();
    let mut inner = function.clone();
    inner.vis = syn::Visibility::Inherited;
    let docs = function.attrs.iter().filter(|a| a.path().is_ident("doc"));
    quote! {
        #(#docs)*
        #[allow(non_camel_case_types)]
        #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
        #vis struct #name;

        #[automatically_derived]
        impl #ENDPOINT for #name {
            fn definition(self) -> #ENDPOINT_DEF {
                #[allow(dead_code)]
                #inner
                #REJECTED_ENDPOINT(#operation_id)
            }
        }
    }
}
