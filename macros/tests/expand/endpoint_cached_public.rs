#[allow(non_camel_case_types)]
#[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
pub struct articles;
#[automatically_derived]
impl ::rampart::__private::Endpoint for articles {
    fn definition(self) -> ::rampart::__private::EndpointDef {
        async fn articles() -> ApiResult<Vec<Article>> {
            Ok(Vec::new())
        }
        async fn __rampart_handler() -> ::rampart::__private::axum::response::Response {
            ::rampart::__private::respond::<ApiResult<Vec<Article>>>(articles().await)
        }
        fn __rampart_document(__rampart_doc: &mut ::rampart::__private::OperationDoc) {
            #[allow(unused_imports)]
            use ::rampart::__private::extractors::DocumentBody as _;
            #[allow(unused_imports)]
            use ::rampart::__private::extractors::DocumentBodyFallback as _;
            #[allow(unused_imports)]
            use ::rampart::__private::DescribeOutput as _;
            #[allow(unused_imports)]
            use ::rampart::__private::DescribeFallback as _;
            (&&::rampart::__private::OutputProbe::<ApiResult<Vec<Article>>>::new())
                .describe_output(__rampart_doc);
        }
        #[allow(unused_imports)]
        use ::rampart::__private::extractors::LastFromParts as _;
        #[allow(unused_imports)]
        use ::rampart::__private::extractors::LastFromRequest as _;
        #[allow(unused_imports)]
        use ::rampart::__private::extractors::LastRefused as _;
        #[allow(unused_imports)]
        use ::rampart::__private::extractors::PartsAccepted as _;
        #[allow(unused_imports)]
        use ::rampart::__private::extractors::PartsRefused as _;
        #[allow(unused_imports)]
        use ::rampart::__private::extractors::RouteAccepted as _;
        #[allow(unused_imports)]
        use ::rampart::__private::extractors::RouteRefused as _;
        ::rampart::__private::EndpointDef {
            method: ::rampart::__private::axum::http::Method::GET,
            path: "/articles",
            prefixed: true,
            operation_id: "articles",
            summary: ::core::option::Option::None,
            description: ::core::option::Option::None,
            tags: &[],
            deprecated: false,
            access: ::rampart::__private::Access::Public,
            body_limit: ::core::option::Option::None,
            timeout: ::core::option::Option::None,
            body_timeout: ::core::option::Option::None,
            rate_limit: ::core::option::Option::None,
            idempotency: ::core::option::Option::None,
            cache: ::core::option::Option::Some(::rampart::__private::CachePolicy {
                ttl: ::core::time::Duration::from_millis(30000u64),
                shared: false,
                stale_if_error: ::rampart::__private::CachePolicy::DEFAULT_STALE_IF_ERROR,
                tags: &[],
            }),
            invalidates: &[],
            errors: &[],
            handler: (&&::rampart::__private::extractors::RouteProbe::of(
                ::rampart::__private::extractors::Accepted,
            ))
                .route(
                    ::rampart::__private::axum::routing::MethodFilter::GET,
                    __rampart_handler,
                ),
            document: __rampart_document,
            deps: &[],
        }
    }
}
