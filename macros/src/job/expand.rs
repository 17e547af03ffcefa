//! Code generation for a checked job: a unit struct under the fn's name implementing `Job`,
//! whose `spec` is a static `JobSpec` (the declared keys over `JobSpec::new`'s defaults, so the
//! defaults live in the runtime only) and whose `run` holds the original fn and calls it
//! through spanned checks of its first argument, return type and future.

use proc_macro2::{Group, Ident, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::check::{BackoffChoice, BackoffKind, CheckedJob};
use crate::endpoint::deps::probes;
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
fn spec_tokens(job: &CheckedJob, deps: &TokenStream) -> TokenStream {
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
            deps: #deps,
            ..#JOB_SPEC::new(#name)
        }
    }
}

/// What the expansion needs of a job's `Dep<T>` arguments.
struct Dependencies {
    /// An inherent impl on the job's unit struct with one registration probe per argument.
    probes: TokenStream,
    /// The value of `JobSpec::deps`.
    field: TokenStream,
    /// Statements fetching each argument from the context, in the job's future.
    fetches: TokenStream,
    /// The variables the fetches bind, in argument order.
    values: Vec<Ident>,
}

fn dependencies(unit: &Ident, types: &[syn::Type]) -> Dependencies {
    let registration = probes(unit, types.iter().enumerate(), &quote!(#unit));
    let mut fetches = TokenStream::new();
    let mut values = Vec::new();
    for (index, ty) in types.iter().enumerate() {
        let value = format_ident!("__rampart_dep{}", index);
        // Spanned at the type: an argument that is no `Dep<T>` is one error there. The
        // context is named outside the spanned tokens, so it resolves where `run` binds it
        // even when the type came through a `macro_rules!` fragment.
        let method = quote_spanned! {ty.span()=>
            (&&#JOB_SUPPORT::DepFetch::<#ty>::new()).job_dep
        };
        let fetch = quote!(#method(&__rampart_ctx)?);
        let assert = quote_spanned!(ty.span()=> #JOB_SUPPORT::job_dependency_argument::<#ty>);
        fetches.extend(quote! {
            #[allow(unused_imports)]
            use #JOB_SUPPORT::{FetchDep as _, FetchDepRejected as _};
            #assert();
            let #value: #ty = #fetch;
        });
        values.push(value);
    }
    Dependencies {
        probes: registration.items,
        field: registration.field,
        fetches,
        values,
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
    let signature = &job.signature;
    let deps = dependencies(name, &signature.deps);
    let spec = spec_tokens(job, &deps.field);
    let (ctx, input, output) = (&signature.ctx, &signature.input, &signature.output);

    // Each check is spanned at the token it is about: the first argument's type, the return
    // type, and the fn's name for the future (a body that is not `Send`).
    let job_ctx = quote_spanned!(ctx.span()=> #JOB_SUPPORT::job_ctx::<#ctx>);
    let job_result = quote_spanned!(output.span()=> #JOB_SUPPORT::job_result::<#output>);
    let dep_values = &deps.values;
    let call = quote!(#name(#job_ctx(__rampart_ctx), __rampart_input #(, #dep_values)*));
    // Method-call syntax picks `SendJob` or, when the input is not `Send`, `SendJobRejected`.
    let imports = quote! {
        #[allow(unused_imports)]
        use #JOB_SUPPORT::{SendJob as _, SendJobRejected as _};
    };
    // The future holds the dependencies too: one that is not `Send` was reported by its
    // registration probe, so the probe covers them (the rejected path asks for nothing).
    let dep_types = &signature.deps;
    // Only generated tokens are respanned (at the fn's name, where rustc reports a future that
    // is not `Send`); the user's dependency types keep their own spans, so a `$crate` path in
    // one still resolves where it was written.
    let self_input = respanned(quote!(<Self as #JOB>::Input), name.span());
    let sent = if dep_types.is_empty() {
        self_input
    } else {
        quote!((#self_input, #(#dep_types,)*))
    };
    let send_probe = respanned(quote!(#JOB_SUPPORT::SendProbe), name.span());
    let new = respanned(quote!(new), name.span());
    let probe = quote_spanned!(name.span()=> (&&#send_probe::<#sent>::#new()));
    // A scheduled run is enqueued with `Default::default()`: asserted at the input type.
    let scheduled = job.cron.as_ref().map(|_| {
        let cron_input = quote_spanned!(input.span()=> #JOB_SUPPORT::cron_input::<#input>);
        quote! {
            fn scheduled_input(self) -> ::core::option::Option<<Self as #JOB>::Input> {
                #cron_input()
            }
        }
    });
    let fetches = &deps.fetches;
    let run = quote_spanned! {name.span()=>
        #probe.send_job(async move {
            #fetches
            #job_result(#call.await)
        })
    };

    let probes = &deps.probes;
    quote! {
        #(#docs)*
        #[allow(non_camel_case_types)]
        #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
        #vis struct #name;

        #probes

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
