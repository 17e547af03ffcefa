//! Code generation for a checked endpoint: a unit struct under the fn's name implementing
//! `Endpoint`, whose `definition` holds the original fn, an axum handler around it, the
//! OpenAPI description of its inputs and output, and spanned role/permission checks.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::check::{Access, CheckedEndpoint, InputKind, PathForm, Requirement, Scheme};
use super::extractors::argument_checks;
use crate::paths::{
    ACCESS, BODY_DOC_PROBE, CACHE_POLICY, DESCRIBE_FALLBACK, DESCRIBE_OUTPUT, DOCUMENT_BODY,
    DOCUMENT_BODY_FALLBACK, ENDPOINT, ENDPOINT_DEF, HTTP_METHOD, IDEMPOTENCY, METHOD_FILTER,
    OPERATION_DOC, OUTPUT_PROBE, RATE_LIMIT_SPEC, REQUIREMENT, RESPOND, RESPONSE, ROUTE_ACCEPTED,
    ROUTE_PROBE, ROUTE_REFUSED, SCHEMES, use_traits,
};
use crate::roles::rbac_import;

fn option<T: quote::ToTokens>(value: Option<T>) -> TokenStream {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

fn access_tokens(endpoint: &CheckedEndpoint, checks: &mut TokenStream) -> TokenStream {
    // The table is imported once, at the first name that needs it: without a `roles!` at the
    // crate root that import is the one error, and it says what is missing.
    let mut imported = false;
    let mut import = |span: Span, checks: &mut TokenStream| {
        if !std::mem::replace(&mut imported, true) {
            checks.extend(rbac_import(span));
        }
    };
    match &endpoint.access {
        Access::Public => quote!(#ACCESS::Public),
        Access::Protected {
            scheme,
            requirement,
        } => {
            let schemes = match scheme {
                Scheme::Any => quote!(#SCHEMES::Any),
                Scheme::Jwt => quote!(#SCHEMES::Jwt),
                Scheme::ApiKey => quote!(#SCHEMES::ApiKey),
            };
            let requirement = match requirement {
                Requirement::Authenticated => quote!(#REQUIREMENT::Authenticated),
                Requirement::Roles(roles) => {
                    for role in roles {
                        // `admin` exists in every table; rampart's own endpoints rely on that.
                        if role.value() == "admin" {
                            continue;
                        }
                        let ident = Ident::new(&role.value(), role.span());
                        import(role.span(), checks);
                        checks.extend(quote_spanned! {role.span()=>
                            let _: ::core::option::Option<__rampart_rbac::roles::#ident> = ::core::option::Option::None;
                        });
                    }
                    quote!(#REQUIREMENT::AnyRole(&[#(#roles),*]))
                }
                Requirement::Permission(literal, ident) => {
                    let ident = Ident::new(ident, literal.span());
                    import(literal.span(), checks);
                    checks.extend(quote_spanned! {literal.span()=>
                        let _: ::core::option::Option<__rampart_rbac::permissions::#ident> = ::core::option::Option::None;
                    });
                    quote!(#REQUIREMENT::Permission(#literal, &__rampart_rbac::TABLE))
                }
            };
            quote!(#ACCESS::Protected { schemes: #schemes, requirement: #requirement })
        }
    }
}

fn document_calls(endpoint: &CheckedEndpoint) -> TokenStream {
    let mut calls = use_traits(&[DOCUMENT_BODY, DOCUMENT_BODY_FALLBACK]);
    for input in &endpoint.inputs {
        match &input.kind {
            InputKind::Path(PathForm::Single(ty)) => {
                if let Some(name) = endpoint.path_params.first() {
                    calls.extend(
                        quote_spanned!(ty.span()=> __rampart_doc.path_param::<#ty>(#name);),
                    );
                }
            }
            InputKind::Path(PathForm::Tuple(types)) => {
                for (ty, name) in types.iter().zip(&endpoint.path_params) {
                    calls.extend(
                        quote_spanned!(ty.span()=> __rampart_doc.path_param::<#ty>(#name);),
                    );
                }
            }
            InputKind::Path(PathForm::Struct(ty)) => {
                calls.extend(quote_spanned!(ty.span()=> __rampart_doc.path_struct::<#ty>();));
            }
            // Through a probe: a body without a schema is reported once, by `assert_json_schema`.
            InputKind::Json(ty) => calls.extend(quote_spanned!(ty.span()=>
                (&&#BODY_DOC_PROBE::<#ty>::new()).document_body(__rampart_doc);
            )),
            InputKind::Query(ty) => {
                calls.extend(quote_spanned!(ty.span()=> __rampart_doc.query::<#ty>();))
            }
            InputKind::Page => calls.extend(quote!(__rampart_doc.page();)),
            InputKind::IfMatch => calls.extend(quote!(__rampart_doc.if_match();)),
            InputKind::List(ty) => {
                calls.extend(quote_spanned!(ty.span()=> __rampart_doc.list::<#ty>();))
            }
            InputKind::Other => {}
        }
    }
    calls
}

pub(crate) fn expand(endpoint: &CheckedEndpoint) -> TokenStream {
    let vis = &endpoint.function.vis;
    // The fn lives inside `definition`, where a `pub` would be meaningless (and linted).
    let mut inner = endpoint.function.clone();
    inner.vis = syn::Visibility::Inherited;
    let function = &inner;
    let name = &function.sig.ident;
    let docs: Vec<&syn::Attribute> = function
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .collect();
    let output = &endpoint.output;

    let args: Vec<Ident> = (0..endpoint.inputs.len())
        .map(|i| format_ident!("__rampart_arg{}", i))
        .collect();
    let types: Vec<&syn::Type> = endpoint.inputs.iter().map(|input| &input.ty).collect();
    let respond = quote_spanned!(output.span()=> #RESPOND::<#output>);

    let (mut checks, arguments) = argument_checks(&endpoint.inputs);
    let access = access_tokens(endpoint, &mut checks);
    let documents = document_calls(endpoint);
    let super::deps::DepProbes {
        items: dep_probes,
        field: deps,
    } = super::deps::dep_probes(endpoint, name);

    let method = Ident::new(endpoint.method.constant(), Span::call_site());
    let path = &endpoint.path;
    let operation_id = &endpoint.operation_id;
    let summary = option(endpoint.summary.as_ref());
    let description = option(endpoint.description.as_ref());
    let tags = &endpoint.tags;
    let deprecated = endpoint.deprecated;
    let body_limit = option(endpoint.body_limit);
    let timeout = option(
        endpoint
            .timeout_ms
            .map(|ms| quote!(::core::time::Duration::from_millis(#ms))),
    );
    let body_timeout = option(
        endpoint
            .body_timeout_ms
            .map(|ms| quote!(::core::time::Duration::from_millis(#ms))),
    );
    let errors = &endpoint.errors;
    let rate_limit = option(endpoint.rate_limit.as_ref().map(|limit| {
        let (count, per, burst) = (limit.count, limit.per_seconds, limit.burst);
        quote!(#RATE_LIMIT_SPEC { count: #count, per: ::core::time::Duration::from_secs(#per), burst: #burst })
    }));

    let idempotency = option(endpoint.idempotency.map(|ttl| {
        let ttl = option(ttl.map(|ms| quote!(::core::time::Duration::from_millis(#ms))));
        quote!(#IDEMPOTENCY { ttl: #ttl })
    }));

    let cache = option(endpoint.cache.as_ref().map(|cache| {
        let ttl = cache.ttl_ms;
        let shared = cache.shared;
        let stale_if_error = match cache.stale_if_error_ms {
            Some(ms) => quote!(::core::time::Duration::from_millis(#ms)),
            None => quote!(#CACHE_POLICY::DEFAULT_STALE_IF_ERROR),
        };
        let tags = &cache.tags;
        quote!(#CACHE_POLICY {
            ttl: ::core::time::Duration::from_millis(#ttl),
            shared: #shared,
            stale_if_error: #stale_if_error,
            tags: &[#(#tags),*],
        })
    }));
    let invalidates = &endpoint.invalidates;

    let describe_traits = use_traits(&[DESCRIBE_OUTPUT, DESCRIBE_FALLBACK]);
    let route_traits = use_traits(&[ROUTE_ACCEPTED, ROUTE_REFUSED]);

    quote! {
        #(#docs)*
        #[allow(non_camel_case_types)]
        #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
        #vis struct #name;

        #dep_probes

        #[automatically_derived]
        impl #ENDPOINT for #name {
            fn definition(self) -> #ENDPOINT_DEF {
                #function

                async fn __rampart_handler(#(#args: #types),*) -> #RESPONSE {
                    #respond(#name(#(#args),*).await)
                }

                fn __rampart_document(__rampart_doc: &mut #OPERATION_DOC) {
                    #documents
                    // Autoref probe: describes the output when it is a response type; when it is
                    // not, `respond` above reports the one error.
                    #describe_traits
                    (&&#OUTPUT_PROBE::<#output>::new()).describe_output(__rampart_doc);
                }

                #checks
                #route_traits

                #ENDPOINT_DEF {
                    method: #HTTP_METHOD::#method,
                    path: #path,
                    prefixed: true,
                    operation_id: #operation_id,
                    summary: #summary,
                    description: #description,
                    tags: &[#(#tags),*],
                    deprecated: #deprecated,
                    access: #access,
                    body_limit: #body_limit,
                    timeout: #timeout,
                    body_timeout: #body_timeout,
                    rate_limit: #rate_limit,
                    idempotency: #idempotency,
                    cache: #cache,
                    invalidates: &[#(#invalidates),*],
                    errors: &[#(#errors),*],
                    // Routed by the arguments' status: a refused argument is already one error.
                    handler: (&&#ROUTE_PROBE::of(#arguments))
                        .route(#METHOD_FILTER::#method, __rampart_handler),
                    document: __rampart_document,
                    deps: #deps,
                }
            }
        }
    }
}
