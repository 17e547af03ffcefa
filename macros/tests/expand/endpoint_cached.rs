/// A project's counts.
#[allow(non_camel_case_types)]
#[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
pub struct project_summary;
#[automatically_derived]
impl project_summary {
    fn __rampart_dep0() -> ::core::option::Option<::rampart::__private::DepKey> {
        #[allow(unused_imports)]
        use ::rampart::__private::DescribeNotDep as _;
        let __rampart_probe = ::rampart::__private::DepProbe::<Ctx>::new();
        __rampart_probe.dep_key()
    }
    fn __rampart_dep1() -> ::core::option::Option<::rampart::__private::DepKey> {
        #[allow(unused_imports)]
        use ::rampart::__private::DescribeNotDep as _;
        let __rampart_probe = ::rampart::__private::DepProbe::<Path<Uuid>>::new();
        __rampart_probe.dep_key()
    }
}
#[automatically_derived]
impl ::rampart::__private::Endpoint for project_summary {
    fn definition(self) -> ::rampart::__private::EndpointDef {
        /// A project's counts.
        async fn project_summary(ctx: Ctx, Path(id): Path<Uuid>) -> ApiResult<Summary> {
            summarize(ctx, id).await
        }
        async fn __rampart_handler(
            __rampart_arg0: Ctx,
            __rampart_arg1: Path<Uuid>,
        ) -> ::rampart::__private::axum::response::Response {
            ::rampart::__private::respond::<
                ApiResult<Summary>,
            >(project_summary(__rampart_arg0, __rampart_arg1).await)
        }
        fn __rampart_document(__rampart_doc: &mut ::rampart::__private::OperationDoc) {
            #[allow(unused_imports)]
            use ::rampart::__private::extractors::DocumentBody as _;
            #[allow(unused_imports)]
            use ::rampart::__private::extractors::DocumentBodyFallback as _;
            __rampart_doc.path_param::<Uuid>("id");
            #[allow(unused_imports)]
            use ::rampart::__private::DescribeOutput as _;
            #[allow(unused_imports)]
            use ::rampart::__private::DescribeFallback as _;
            (&&::rampart::__private::OutputProbe::<ApiResult<Summary>>::new())
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
        let __rampart_status0 = (&&::rampart::__private::extractors::PartsProbe::<
            Ctx,
        >::new())
            .parts_status();
        ::rampart::__private::extractors::assert_extractor::<Ctx, _>(&__rampart_status0);
        let __rampart_status1 = (&&&::rampart::__private::extractors::LastProbe::<
            Path<Uuid>,
        >::new())
            .last_status();
        ::rampart::__private::extractors::assert_known_extractor::<
            Path<Uuid>,
            _,
        >(&__rampart_status1);
        ::rampart::__private::extractors::assert_path_deserialize::<Uuid>();
        #[allow(unused_imports)]
        use crate::__rampart_roles_missing_add_rampart_roles_at_crate_root as __rampart_rbac;
        let _: ::core::option::Option<__rampart_rbac::roles::member> = ::core::option::Option::None;
        #[allow(unused_imports)]
        use ::rampart::__private::extractors::RouteAccepted as _;
        #[allow(unused_imports)]
        use ::rampart::__private::extractors::RouteRefused as _;
        ::rampart::__private::EndpointDef {
            method: ::rampart::__private::axum::http::Method::GET,
            path: "/projects/{id}/summary",
            prefixed: true,
            operation_id: "project_summary",
            summary: ::core::option::Option::Some("A project's counts."),
            description: ::core::option::Option::None,
            tags: &[],
            deprecated: false,
            access: ::rampart::__private::Access::Protected {
                schemes: ::rampart::__private::Schemes::Any,
                requirement: ::rampart::__private::Requirement::AnyRole(&["member"]),
            },
            body_limit: ::core::option::Option::None,
            timeout: ::core::option::Option::None,
            body_timeout: ::core::option::Option::None,
            rate_limit: ::core::option::Option::None,
            idempotency: ::core::option::Option::None,
            cache: ::core::option::Option::Some(::rampart::__private::CachePolicy {
                ttl: ::core::time::Duration::from_millis(10000u64),
                shared: true,
                stale_if_error: ::core::time::Duration::from_millis(120000u64),
                tags: &["projects", "tasks"],
            }),
            invalidates: &[],
            errors: &[],
            handler: (&&::rampart::__private::extractors::RouteProbe::of(
                ::rampart::__private::extractors::Accepted
                    .and(__rampart_status0)
                    .and(__rampart_status1),
            ))
                .route(
                    ::rampart::__private::axum::routing::MethodFilter::GET,
                    __rampart_handler,
                ),
            document: __rampart_document,
            deps: &[Self::__rampart_dep0, Self::__rampart_dep1],
        }
    }
}
