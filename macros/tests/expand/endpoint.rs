/// Changes a note.
#[allow(non_camel_case_types)]
#[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
pub struct patch_note;
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
            __rampart_doc.path_param::<Uuid>("id");
            __rampart_doc.body::<NotePatch>();
            #[allow(unused_imports)]
            use ::rampart::__private::{DescribeOutput as _, DescribeFallback as _};
            (&&::rampart::__private::OutputProbe::<ApiResult<Note>>::new())
                .describe_output(__rampart_doc);
        }
        let _: ::core::option::Option<crate::__rampart_rbac::roles::member> = ::core::option::Option::None;
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
            errors: &[409u16],
            handler: ::rampart::__private::axum::routing::on(
                ::rampart::__private::axum::routing::MethodFilter::PATCH,
                __rampart_handler,
            ),
            document: __rampart_document,
            deps: &[],
        }
    }
}
