//! Code generation for a checked job: a unit struct under the fn's name implementing `Job`,
//! whose `spec` is a static `JobSpec` (the declared keys over `JobSpec::new`'s defaults, so the
//! defaults live in the runtime only) and whose `run` holds the original fn and calls it
//! through spanned checks of its first argument, return type and future.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::quote;
use quote::quote_spanned;
use syn::spanned::Spanned;

use super::check::{BackoffChoice, BackoffKind, CheckedJob};
use crate::paths::{BACKOFF, JOB, JOB_CTX, JOB_SPEC, JOB_SUPPORT};

/// `tokens` with every span set to `span`: the runtime paths quote at the call site (the
/// attribute), and rustc reports an unmet bound of an inferred call at its path.
fn respanned(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(group) = &tree {
                let mut inner = Group::new(group.delimiter(), respanned(group.stream(), span));
                inner.set_span(span);
                tree = TokenTree::Group(inner);
            }
            tree.set_span(span);
            tree
        })
        .collect()
}

fn millis(ms: u64) -> TokenStream {
    quote!(::core::time::Duration::from_millis(#ms))
}

fn backoff_tokens(choice: BackoffChoice) -> TokenStream {
    let base = match choice.base_ms {
        Some(ms) => millis(ms),
        None => quote!(#JOB_SUPPORT::DEFAULT_BACKOFF_BASE),
    };
    match choice.kind {
        Some(BackoffKind::Exponential) | None => quote!(#BACKOFF::Exponential { base: #base }),
        Some(BackoffKind::Fixed) => quote!(#BACKOFF::Fixed { delay: #base }),
        Some(BackoffKind::None) => quote!(#BACKOFF::None),
    }
}

/// The `JobSpec` literal: every declared key, then `..JobSpec::new(name)`.
fn spec_tokens(job: &CheckedJob) -> TokenStream {
    let mut fields = TokenStream::new();
    if let Some(queue) = &job.queue {
        fields.extend(quote!(queue: #queue,));
    }
    if let Some(retries) = job.retries {
        fields.extend(quote!(retries: #retries,));
    }
    if let Some(choice) = job.backoff {
        let backoff = backoff_tokens(choice);
        fields.extend(quote!(backoff: #backoff,));
    }
    if let Some(ms) = job.timeout_ms {
        let timeout = millis(ms);
        fields.extend(quote!(timeout: #timeout,));
    }
    if let Some(ms) = job.unique_ms {
        let window = millis(ms);
        fields.extend(quote!(unique: ::core::option::Option::Some(#window),));
    }
    if let Some(cron) = &job.cron {
        fields.extend(quote!(cron: ::core::option::Option::Some(#cron),));
    }
    let name = &job.name;
    let description = &job.description;
    quote! {
        #JOB_SPEC {
            #fields
            description: #description,
            ..#JOB_SPEC::new(#name)
        }
    }
}

pub(crate) fn expand(job: &CheckedJob) -> TokenStream {
    let vis = &job.function.vis;
    // The fn lives inside `run`, where a `pub` would be meaningless (and linted).
    let mut inner = job.function.clone();
    inner.vis = syn::Visibility::Inherited;
    let name = &inner.sig.ident;
    let docs = job
        .function
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"));
    let spec = spec_tokens(job);
    let signature = &job.signature;
    let (ctx, input, output) = (&signature.ctx, &signature.input, &signature.output);

    // Each check is spanned at the token it is about: the first argument's type, the return
    // type, and the fn's name for the future (a body that is not `Send`).
    let job_ctx = quote_spanned!(ctx.span()=> #JOB_SUPPORT::job_ctx::<#ctx>);
    let job_result = quote_spanned!(output.span()=> #JOB_SUPPORT::job_result::<#output>);
    let call = quote!(#name(#job_ctx(__rampart_ctx), __rampart_input));
    // Method-call syntax picks `SendJob` or, when the input is not `Send`, `SendJobRejected`.
    let imports = quote! {
        #[allow(unused_imports)]
        use #JOB_SUPPORT::{SendJob as _, SendJobRejected as _};
    };
    let probe = respanned(
        quote!((&&#JOB_SUPPORT::SendProbe::<<Self as #JOB>::Input>::new())),
        name.span(),
    );
    // A scheduled run is enqueued with `Default::default()`: asserted at the input type.
    let scheduled = job.cron.as_ref().map(|_| {
        let cron_input = quote_spanned!(input.span()=> #JOB_SUPPORT::cron_input::<#input>);
        quote! {
            fn scheduled_input(self) -> ::core::option::Option<<Self as #JOB>::Input> {
                #cron_input()
            }
        }
    });
    let run = quote_spanned! {name.span()=>
        #probe.send_job(async move { #job_result(#call.await) })
    };

    quote! {
        #(#docs)*
        #[allow(non_camel_case_types)]
        #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
        #vis struct #name;

        #[automatically_derived]
        impl #JOB for #name {
            type Input = #input;

            fn spec(self) -> &'static #JOB_SPEC {
                static __RAMPART_SPEC: #JOB_SPEC = #spec;
                &__RAMPART_SPEC
            }

            fn run(
                self,
                __rampart_ctx: #JOB_CTX,
                __rampart_input: <Self as #JOB>::Input,
            ) -> #JOB_SUPPORT::JobFuture {
                #inner
                #imports
                #run
            }

            #scheduled
        }
    }
}
