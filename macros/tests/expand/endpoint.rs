/// Changes a note.
#[allow(non_camel_case_types)]
#[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
pub struct patch_note;
#[automatically_derived]
impl patch_note {
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
    fn __rampart_dep2() -> ::core::option::Option<::rampart::__private::DepKey> {
        #[allow(unused_imports)]
        use ::rampart::__private::DescribeNotDep as _;
        let __rampart_probe = ::rampart::__private::DepProbe::<Json<NotePatch>>::new();
        __rampart_probe.dep_key()
    }
}
#[automatically_derived]
impl ::rampart::__private::Endpoint for patch_note {
    fn definition(self) -> ::rampart::__private::EndpointDef {
        /// Changes a note.
        async fn patch_note(
            ctx: Ctx,
            Path(id): Path<Uuid>,
            Json(input): Json<NotePatch>,
        ) -> ApiResult<Note> {
            update_note(ctx, id, input).await
        }
        async fn __rampart_handler(
            __rampart_arg0: Ctx,
            __rampart_arg1: Path<Uuid>,
            __rampart_arg2: Json<NotePatch>,
        ) -> ::rampart::__private::axum::response::Response {
            ::rampart::__private::respond::<
                ApiResult<Note>,
            >(patch_note(__rampart_arg0, __rampart_arg1, __rampart_arg2).await)
        }
        fn __rampart_document(__rampart_doc: &mut ::rampart::__private::OperationDoc) {
            #[allow(unused_imports)]
            use ::rampart::__private::extractors::DocumentBody as _;
            #[allow(unused_imports)]
            use ::rampart::__private::extractors::DocumentBodyFallback as _;
            __rampart_doc.path_param::<Uuid>("id");
            (&&::rampart::__private::extractors::BodyDocProbe::<NotePatch>::new())
                .document_body(__rampart_doc);
            #[allow(unused_imports)]
            use ::rampart::__private::DescribeOutput as _;
            #[allow(unused_imports)]
            use ::rampart::__private::DescribeFallback as _;
            (&&::rampart::__private::OutputProbe::<ApiResult<Note>>::new())
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
        let __rampart_status1 = (&&::rampart::__private::extractors::PartsProbe::<
            Path<Uuid>,
        >::new())
            .parts_status();
        ::rampart::__private::extractors::assert_known_extractor::<
            Path<Uuid>,
            _,
        >(&__rampart_status1);
        ::rampart::__private::extractors::assert_path_deserialize::<Uuid>();
        let __rampart_status2 = (&&&::rampart::__private::extractors::LastProbe::<
            Json<NotePatch>,
        >::new())
            .last_status();
        ::rampart::__private::extractors::assert_known_extractor::<
            Json<NotePatch>,
            _,
        >(&__rampart_status2);
        ::rampart::__private::extractors::assert_json_deserialize::<NotePatch>();
        ::rampart::__private::extractors::assert_json_validate::<NotePatch>();
        ::rampart::__private::extractors::assert_json_schema::<NotePatch>();
        #[allow(unused_imports)]
        use crate::__rampart_roles_missing_add_rampart_roles_at_crate_root as __rampart_rbac;
        let _: ::core::option::Option<__rampart_rbac::roles::member> = ::core::option::Option::None;
        #[allow(unused_imports)]
        use ::rampart::__private::extractors::RouteAccepted as _;
        #[allow(unused_imports)]
        use ::rampart::__private::extractors::RouteRefused as _;
        ::rampart::__private::EndpointDef {
            method: ::rampart::__private::axum::http::Method::PATCH,
            path: "/notes/{id}",
            prefixed: true,
            operation_id: "patch_note",
            summary: ::core::option::Option::Some("Changes a note."),
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
            rate_limit: ::core::option::Option::Some(::rampart::__private::RateLimitSpec {
                count: 10u32,
                per: ::core::time::Duration::from_secs(60u64),
                burst: 10u32,
            }),
            idempotency: ::core::option::Option::None,
            cache: ::core::option::Option::None,
            invalidates: &[],
            errors: &[409u16],
            handler: (&&::rampart::__private::extractors::RouteProbe::of(
                ::rampart::__private::extractors::Accepted
                    .and(__rampart_status0)
                    .and(__rampart_status1)
                    .and(__rampart_status2),
            ))
                .route(
                    ::rampart::__private::axum::routing::MethodFilter::PATCH,
                    __rampart_handler,
                ),
            document: __rampart_document,
            deps: &[Self::__rampart_dep0, Self::__rampart_dep1, Self::__rampart_dep2],
        }
    }
}
