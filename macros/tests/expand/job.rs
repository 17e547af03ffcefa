/// Sends the welcome mail.
///
/// Once per sign-up.
#[allow(non_camel_case_types)]
#[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
pub struct send_welcome;
#[automatically_derived]
impl ::rampart::__private::Job for send_welcome {
    type Input = Welcome;
    fn spec(self) -> &'static ::rampart::__private::JobSpec {
        static __RAMPART_SPEC: ::rampart::__private::JobSpec = ::rampart::__private::JobSpec {
            queue: "mail",
            retries: 8u32,
            backoff: ::rampart::__private::Backoff::Exponential {
                base: ::core::time::Duration::from_millis(2000u64),
            },
            timeout: ::core::time::Duration::from_millis(30000u64),
            unique: ::core::option::Option::Some(
                ::core::time::Duration::from_millis(600000u64),
            ),
            description: "Sends the welcome mail.",
            deps: &[],
            ..::rampart::__private::JobSpec::new("send_welcome")
        };
        &__RAMPART_SPEC
    }
    fn run(
        self,
        __rampart_ctx: ::rampart::__private::JobCtx,
        __rampart_input: <Self as ::rampart::__private::Job>::Input,
    ) -> ::rampart::__private::job_support::JobFuture {
        /// Sends the welcome mail.
        ///
        /// Once per sign-up.
        async fn send_welcome(ctx: JobCtx, input: Welcome) -> JobResult {
            ctx.dep::<Mailer>()?.welcome(&input.email).await?;
            Ok(())
        }
        #[allow(unused_imports)]
        use ::rampart::__private::job_support::{SendJob as _, SendJobRejected as _};
        (&&::rampart::__private::job_support::SendProbe::<
            <Self as ::rampart::__private::Job>::Input,
        >::new())
            .send_job(async move {
                ::rampart::__private::job_support::job_result::<
                    JobResult,
                >(
                    send_welcome(
                            ::rampart::__private::job_support::job_ctx::<
                                JobCtx,
                            >(__rampart_ctx),
                            __rampart_input,
                        )
                        .await,
                )
            })
    }
}
