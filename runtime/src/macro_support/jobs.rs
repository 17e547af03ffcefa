//! Checks of a `#[job]` fn, spanned by the macro at the token each one is about, so a mistake
//! the type checker finds is one error there naming the fix, not a mismatch inside the
//! generated `Job` impl at the attribute.
//!
//! The input type needs no helper here: `Job::Input`'s own bounds are checked where the
//! expansion writes `type Input = T;`, spanned at `T`, and serde's messages name the missing
//! derive. A second assertion at the same type would only repeat that error.

use std::future::Future;
use std::marker::PhantomData;
use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::dependency::{Dep, Dependency};
use crate::jobs::{Backoff, JobCtx, JobError, JobResult, JobSpec};

/// What `Job::run` returns.
pub type JobFuture = BoxFuture<'static, JobResult>;

/// The first delay `backoff = "fixed"` uses when no `backoff_base` is given: the default
/// exponential base of [`JobSpec::new`], so the two stay one value.
pub const DEFAULT_BACKOFF_BASE: Duration = match JobSpec::new("").backoff {
    Backoff::Exponential { base } | Backoff::Fixed { delay: base } => base,
    Backoff::None => Duration::ZERO,
};

/// The type of a job's first argument: [`JobCtx`] only.
#[diagnostic::on_unimplemented(
    message = "the first argument of a job is its `JobCtx`, not `{Self}`",
    label = "expected `JobCtx`",
    note = "write `ctx: JobCtx` first, then the input, then any dependencies: `async fn name(ctx: JobCtx, input: T, mailer: Dep<Mailer>) -> JobResult`"
)]
pub trait JobCtxArgument {
    /// The context, as the argument's type.
    fn from_job_ctx(ctx: JobCtx) -> Self;
}

impl JobCtxArgument for JobCtx {
    fn from_job_ctx(ctx: JobCtx) -> Self {
        ctx
    }
}

/// Hands the worker's context to the job's first argument (an error at that argument's type
/// when it is not `JobCtx`).
pub fn job_ctx<T: JobCtxArgument>(ctx: JobCtx) -> T {
    T::from_job_ctx(ctx)
}

/// The return type of a job: [`JobResult`] only.
#[diagnostic::on_unimplemented(
    message = "a job returns `JobResult`, not `{Self}`",
    label = "expected `JobResult`",
    note = "write `-> JobResult` (`Result<(), JobError>`); any error converts into `JobError` with `?`"
)]
pub trait JobOutput {
    /// The result, as the worker reads it.
    fn into_job_result(self) -> JobResult;
}

impl JobOutput for JobResult {
    fn into_job_result(self) -> JobResult {
        self
    }
}

/// The job's result (an error at the return type when it is not `JobResult`).
pub fn job_result<O: JobOutput>(output: O) -> JobResult {
    output.into_job_result()
}

/// The input of a scheduled run: `Default::default()`. The macro spans the call at a `cron`
/// job's input type, so an input without `Default` is one error there.
pub fn cron_input<T: Default>() -> Option<T> {
    Some(T::default())
}

/// Autoref probe over a job's input type, for boxing its future (see [`SendJob`]).
#[derive(Debug)]
pub struct SendProbe<I>(PhantomData<fn() -> I>);

impl<I> SendProbe<I> {
    /// A probe for `I`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

/// Picked when the input is `Send`: boxes the job's future, which must be `Send`. The macro
/// spans the call at the fn's name, so a body that holds a value that is not `Send` across an
/// `.await` is reported there, with rustc's note at the value.
pub trait SendJob {
    /// The boxed future.
    fn send_job<F>(&self, future: F) -> JobFuture
    where
        F: Future<Output = JobResult> + Send + 'static;
}

impl<I: Send> SendJob for &SendProbe<I> {
    fn send_job<F>(&self, future: F) -> JobFuture
    where
        F: Future<Output = JobResult> + Send + 'static,
    {
        Box::pin(future)
    }
}

/// Picked when the input or a dependency is not `Send`: `Job::Input`'s bound reports the
/// input, once, at its type, and the registration probe a dependency; a future holding either
/// cannot be `Send`, so this asks for nothing (the crate does not compile, so it never runs).
pub trait SendJobRejected {
    /// Never returns.
    fn send_job<F>(&self, future: F) -> JobFuture;
}

impl<I> SendJobRejected for &&SendProbe<I> {
    fn send_job<F>(&self, _future: F) -> JobFuture {
        super::fallback::rejected()
    }
}

/// What a job's arguments after its input may be: rampart's `Dep<T>` only, whatever `T`
/// ([`job_dependency_argument`] asserts it at the argument's type). A `Dep<T>` whose `T`
/// cannot be shared is reported by the registration probe instead
/// ([`DepProbe`](crate::dependency::DepProbe)), so each mistake is one error.
#[diagnostic::on_unimplemented(
    message = "a job's arguments after its input are its dependencies, `Dep<T>`, not `{Self}`",
    label = "not a `Dep<T>`",
    note = "put what the job is given in its input (one type, `input: T`); take values registered on the app (`App::dep`) as `name: Dep<T>`"
)]
pub trait JobDependencyArgument {}

impl<T> JobDependencyArgument for Dep<T> {}

/// Asserts that a job's argument after its input is a `Dep<T>` (an error at its type
/// otherwise, with [`JobDependencyArgument`]'s message).
pub fn job_dependency_argument<A: JobDependencyArgument>() {}

/// Autoref probe over a job's dependency argument (see [`FetchDep`]).
#[derive(Debug)]
pub struct DepFetch<A>(PhantomData<fn() -> A>);

impl<A> DepFetch<A> {
    /// A probe for `A`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

/// Picked for `Dep<T>` with a shareable `T`: the registered value (the worker checked at
/// start that it is registered, so the error is for hand-built job sets only).
pub trait FetchDep<A> {
    /// The argument's value.
    fn job_dep(&self, ctx: &JobCtx) -> Result<A, JobError>;
}

impl<T: Dependency> FetchDep<Dep<T>> for &DepFetch<Dep<T>> {
    fn job_dep(&self, ctx: &JobCtx) -> Result<Dep<T>, JobError> {
        ctx.dep::<T>()
    }
}

/// Picked otherwise: an argument that is no `Dep<T>` (asserted beside the fetch), or a
/// `Dep<T>` whose `T` cannot be shared (reported by the probe). Both are reported elsewhere,
/// so this asks for nothing more (the crate does not compile, so it never runs).
pub trait FetchDepRejected<A> {
    /// Never returns.
    fn job_dep(&self, ctx: &JobCtx) -> Result<A, JobError>;
}

impl<A> FetchDepRejected<A> for &&DepFetch<A> {
    fn job_dep(&self, _ctx: &JobCtx) -> Result<A, JobError> {
        super::fallback::rejected()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_backoff_defaults_to_the_exponential_base() {
        assert_eq!(
            JobSpec::new("x").backoff,
            Backoff::Exponential {
                base: DEFAULT_BACKOFF_BASE
            }
        );
        assert!(DEFAULT_BACKOFF_BASE > Duration::ZERO);
    }
}
