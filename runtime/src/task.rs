//! Tasks started inside a request or a job that keep its context.
//!
//! `tokio::spawn` starts a task with no task-locals and no current span: its log lines would
//! lack the request id, trace ids and user id, its statements would start no span, and an
//! outgoing call from it would start a trace of its own. [`spawn`] and [`carried`] give the
//! new task a copy of the request's context (or the running job's origin) and put it in the
//! caller's trace.
//!
//! Imports `context` and `spans`, which import neither this nor each other's users.

use std::future::Future;

use crate::context::{self, JobOrigin, RequestContext};

/// Spawns `future` as a task that outlives, or may outlive, the code that spawns it: its log
/// lines carry the request's (or the job's) ids and user, and when spans are exported it runs
/// in a `task` span of the caller's trace, whose parent is the current span where `spawn` is
/// called (that span still ends when its code does).
///
/// The task sees a copy of the request's context, taken when it is spawned: what it records
/// there (a read of the primary, a stale answer) does not reach the request's response, what
/// the request records later (a write, for read-your-writes) does not reach the task, and its
/// lines and outgoing calls name the request's span, not the task's. A panic in it is logged
/// with the request's id.
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // Without export, the current span (a router over SQLite has one per request, for its
    // worker thread's lines) is held until the task ends; nothing is timed by it then.
    let span = crate::spans::task().unwrap_or_else(tracing::Span::current);
    tokio::spawn(in_context(span, future))
}

/// [`spawn`], when a runtime is running (`None` otherwise): for work started from a `Drop`,
/// which may run after the runtime has gone.
pub fn try_spawn<F>(future: F) -> Option<tokio::task::JoinHandle<F::Output>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::runtime::Handle::try_current()
        .ok()
        .map(|_| spawn(future))
}

/// `future` in the caller's context and span, for work the caller awaits before it finishes
/// (a task joined before the response, a `JoinSet` member): unlike [`spawn`], no span of its
/// own, since the caller's span lasts as long as the work anyway.
pub fn carried<F>(future: F) -> impl Future<Output = F::Output>
where
    F: Future,
{
    in_context(tracing::Span::current(), future)
}

fn in_context<F: Future>(span: tracing::Span, future: F) -> impl Future<Output = F::Output> {
    let request = context::with(RequestContext::carry);
    let origin = context::with_job_origin(JobOrigin::clone);
    let future = tracing::Instrument::instrument(future, span);
    async move {
        match (request, origin) {
            (Some(request), _) => context::scope(request, future).await,
            (None, Some(origin)) => context::job_scope(origin, future).await,
            (None, None) => future.await,
        }
    }
}
