//! What a rejected `#[job]` leaves in place of the fn (fail soft): a unit struct under the
//! fn's name implementing `Job` with the default spec and a `run` that never runs, so every
//! `JobSet::job` and `Jobs::enqueue` of it compiles and the macro's error is the only one. The
//! fn stays inside, unchanged, so mistakes in its body are still reported.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{FnArg, Type};

use crate::paths::{JOB, JOB_CTX, JOB_SPEC, JOB_SUPPORT, REJECTED};
use crate::util::type_head;

/// Whether `ty` names one of the fn's generic parameters (then it cannot leave the fn).
fn mentions(ty: &Type, generics: &syn::Generics) -> bool {
    let text = ty.to_token_stream().to_string();
    generics.params.iter().any(|param| {
        let name = match param {
            syn::GenericParam::Type(param) => param.ident.to_string(),
            syn::GenericParam::Lifetime(param) => param.lifetime.to_string(),
            syn::GenericParam::Const(param) => param.ident.to_string(),
        };
        text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '\''))
            .any(|word| word == name)
    })
}

/// The input the stand-in takes: the type the fn meant as its input (its second argument, or
/// its only one when that is not the `JobCtx`), so enqueueing it adds no mismatch; `()` when
/// there is none, it cannot be named outside the fn, or it is a `Dep<T>`.
fn stand_in_input(function: &syn::ItemFn) -> Type {
    let types: Vec<&Type> = function
        .sig
        .inputs
        .iter()
        .filter_map(|argument| match argument {
            FnArg::Typed(typed) => Some(&*typed.ty),
            FnArg::Receiver(_) => None,
        })
        .collect();
    let candidate = match types.as_slice() {
        [only] if type_head(only).is_none_or(|(name, _)| name != "JobCtx") => Some(*only),
        [_, input, ..] => Some(*input),
        _ => None,
    };
    candidate
        .filter(|ty| !matches!(ty, Type::ImplTrait(_)))
        // A dependency written where the input belongs is reported as such: as the input, it
        // would add serde's errors about `Dep`.
        .filter(|ty| type_head(ty).is_none_or(|(name, _)| name != "Dep"))
        .filter(|ty| !mentions(ty, &function.sig.generics))
        .cloned()
        .unwrap_or_else(|| syn::parse_quote!(()))
}

pub(crate) fn stand_in(function: &syn::ItemFn) -> TokenStream {
    // A method cannot leave a struct in an impl block; it stays as written.
    if function.sig.receiver().is_some() {
        return function.to_token_stream();
    }
    let vis = &function.vis;
    let name = &function.sig.ident;
    let job_name = name.to_string().trim_start_matches("r#").to_owned();
    let input = stand_in_input(function);
    let mut inner = function.clone();
    inner.vis = syn::Visibility::Inherited;
    let docs = function.attrs.iter().filter(|a| a.path().is_ident("doc"));
    quote! {
        #(#docs)*
        #[allow(non_camel_case_types)]
        #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
        #vis struct #name;

        #[automatically_derived]
        impl #JOB for #name {
            type Input = #input;

            fn spec(self) -> &'static #JOB_SPEC {
                static __RAMPART_SPEC: #JOB_SPEC = #JOB_SPEC::new(#job_name);
                &__RAMPART_SPEC
            }

            fn run(
                self,
                _: #JOB_CTX,
                _: <Self as #JOB>::Input,
            ) -> #JOB_SUPPORT::JobFuture {
                #[allow(dead_code)]
                #inner
                #REJECTED()
            }
        }
    }
}
