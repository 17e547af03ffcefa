//! `Dep<T>` arguments: the generated `EndpointDef` lists them (`deps`), so that
//! `Api::into_router` refuses to start an app that registers no `T`.
//!
//! Every argument is probed, whatever its spelling: a macro only sees tokens, and a type alias
//! (`type Mail = rampart::Dep<Smtp>;`), a renamed import (`use rampart::Dep as D;`), a type
//! passed through `macro_rules!` (an invisible group) or parentheses all name rampart's `Dep`
//! without saying `Dep<..>`. The runtime's probe resolves the type: rampart's `Dep<T>` answers
//! its key, anything else (an app's own extractor named `Dep` included) answers nothing. Endpoint
//! fns cannot be generic, so every argument type is concrete where the probe names it. The probe
//! is also where a `T` that cannot be shared (`!Send`/`!Sync`) is reported, at the type, with
//! `Dependency`'s message.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::check::CheckedEndpoint;
use crate::paths::{DEP_KEY, DEP_PROBE, DESCRIBE_NOT_DEP};
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
    // `impl Trait` cannot be named in a probe (and is no extractor: the handler check reports
    // it).
    let arguments = endpoint
        .inputs
        .iter()
        .enumerate()
        .filter(|(_, input)| !matches!(input.ty, syn::Type::ImplTrait(_)))
        .map(|(index, input)| (index, &input.ty));
    probes(unit, arguments, &quote!(Self))
}

/// One probe per `(index, type)` in an inherent impl on `unit`, and the list of them as
/// `owner::probe` paths (`Self` where the list is written inside `unit`'s impl, `unit` itself
/// where `Self` cannot be named: a job's `static` spec).
pub(crate) fn probes<'a>(
    unit: &Ident,
    arguments: impl Iterator<Item = (usize, &'a syn::Type)>,
    owner: &TokenStream,
) -> DepProbes {
    let mut probes = TokenStream::new();
    let mut names = Vec::new();
    for (index, ty) in arguments {
        let name = format_ident!("__rampart_dep{}", index);
        probes.extend(probe_fn(&name, ty));
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
        field: quote!(&[#(#owner::#names),*]),
    }
}

/// A fn named `name` answering the registration key of `ty` when it is rampart's `Dep<T>`
/// (`None` otherwise): what `EndpointDef::deps` and `JobSpec::deps` list.
fn probe_fn(name: &Ident, ty: &syn::Type) -> TokenStream {
    // Where `Dep<T>` is spelled out, the caret of an unshareable `T` goes under `T`.
    let caret = match type_head(unwrapped(ty)) {
        Some((head, mut args)) if head == "Dep" && args.len() == 1 => args.remove(0).span(),
        _ => ty.span(),
    };
    // The call is spanned at `T`: an unshareable `T` is the error, and its caret. The probe
    // variable carries that span where it is declared too, so that both mentions resolve
    // alike when `T` came through a `macro_rules!` fragment (whose hygiene differs).
    let probe = Ident::new("__rampart_probe", caret);
    let call = quote_spanned!(caret=> #probe.dep_key());
    quote! {
        fn #name() -> ::core::option::Option<#DEP_KEY> {
            #[allow(unused_imports)]
            use #DESCRIBE_NOT_DEP as _;
            let #probe = #DEP_PROBE::<#ty>::new();
            #call
        }
    }
}

/// The type inside any parentheses and invisible groups (`macro_rules!` fragments).
fn unwrapped(ty: &syn::Type) -> &syn::Type {
    match ty {
        syn::Type::Group(group) => unwrapped(&group.elem),
        syn::Type::Paren(paren) => unwrapped(&paren.elem),
        other => other,
    }
}
