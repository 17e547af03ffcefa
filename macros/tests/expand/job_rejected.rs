::core::compile_error! {
    "`backoff` never applies: `retries = 0` runs the job once, with no retry to delay\nhelp: remove `backoff`, or allow retries (e.g. `retries = 3`)"
}
#[allow(non_camel_case_types)]
#[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
struct nightly;
#[automatically_derived]
impl ::rampart::__private::Job for nightly {
    type Input = Report;
    fn spec(self) -> &'static ::rampart::__private::JobSpec {
        static __RAMPART_SPEC: ::rampart::__private::JobSpec = ::rampart::__private::JobSpec::new(
            "nightly",
        );
        &__RAMPART_SPEC
    }
    fn run(
        self,
        _: ::rampart::__private::JobCtx,
        _: <Self as ::rampart::__private::Job>::Input,
    ) -> ::rampart::__private::job_support::JobFuture {
        #[allow(dead_code)]
        async fn nightly(ctx: JobCtx, input: Report) -> JobResult {
            let _ = (ctx, input);
            Ok(())
        }
        ::rampart::__private::fallback::rejected()
    }
}
