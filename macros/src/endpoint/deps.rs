//! `Dep<T>` arguments: the generated `EndpointDef` lists them (`deps`), so that
//! `Api::into_router` refuses to start an app that registers no `T`.
//!
//! An argument counts when its type is spelled `..::Dep<T>`; the runtime's probe then confirms
//! it is rampart's `Dep` (an app's own extractor named `Dep` records nothing), so the spelling
//! only decides which arguments are worth probing. The probe is also where a `T` that cannot be
//! shared (`!Send`/`!Sync`) is reported, at the type, with `Dependency`'s message.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::check::CheckedEndpoint;
use crate::paths::private;
use crate::util::type_head;

/// The probes of an endpoint's `Dep<..>` arguments.
pub(crate) struct DepProbes {
    /// An inherent impl on the endpoint's unit struct holding one probe fn per argument
    /// (empty when there are none). Emitted before the `Endpoint` impl, so that a `T` that
    /// cannot be shared is reported before axum's `Handler` error about the same argument.
    pub(crate) items: TokenStream,
    /// The value of `EndpointDef::deps`.
    pub(crate) field: TokenStream,
}

pub(crate) fn dep_probes(endpoint: &CheckedEndpoint, unit: &Ident) -> DepProbes {
    let p = private();
    let mut probes = TokenStream::new();
    let mut names = Vec::new();
    for (index, input) in endpoint.inputs.iter().enumerate() {
        let inner = match type_head(&input.ty) {
            Some((name, mut args)) if name == "Dep" && args.len() == 1 => args.remove(0),
            _ => continue,
        };
        let ty = &input.ty;
        let name = format_ident!("__rampart_dep{}", index);
        // The call is spanned at `T`: an unshareable `T` is the error, and its caret.
        let call = quote_spanned!(inner.span()=> __rampart_probe.dep_key());
        probes.extend(quote! {
            fn #name() -> ::core::option::Option<#p::DepKey> {
                #[allow(unused_imports)]
                use #p::DescribeNotDep as _;
                let __rampart_probe = #p::DepProbe::<#ty>::new();
                #call
            }
        });
        names.push(name);
    }
    if names.is_empty() {
        return DepProbes {
            items: TokenStream::new(),
            field: quote!(&[]),
        };
    }
    DepProbes {
        items: quote! {
            #[automatically_derived]
            impl #unit {
                #probes
            }
        },
        field: quote!(&[#(Self::#names),*]),
    }
}
