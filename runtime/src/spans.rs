//! The spans rampart opens for OpenTelemetry: the request (server), each database statement,
//! each Redis call and each outgoing HTTP call (client), each job (consumer). They exist only
//! when the `otel` feature is built and an exporter is configured
//! (`observability::init_logging` installs it and sets [`enabled`]); otherwise every function
//! here answers `None` after one atomic load, and no span is made.
//!
//! A leaf beside `context` and `trace`: it imports nothing else from the crate, so the
//! database layer, the Redis users and the pipeline may all call it.

use crate::trace::{Remote, TraceContext};

#[cfg(feature = "otel")]
static ENABLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether spans are made and exported.
pub fn enabled() -> bool {
    #[cfg(feature = "otel")]
    {
        ENABLED.load(std::sync::atomic::Ordering::Relaxed)
    }
    #[cfg(not(feature = "otel"))]
    {
        false
    }
}

/// Turns spans on (the exporter is installed).
#[cfg(feature = "otel")]
pub(crate) fn enable() {
    ENABLED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// The span of a request, in the caller's trace (`remote`) or a new one linked to the
/// caller's span (`link`), and the trace context it gives (its ids, and whether the sampler
/// keeps it); `None` when spans are off.
pub fn request(
    method: &'static str,
    route: Option<&str>,
    remote: Option<&Remote>,
    link: Option<&Remote>,
) -> Option<(tracing::Span, TraceContext)> {
    if !enabled() {
        return None;
    }
    #[cfg(feature = "otel")]
    {
        let name = match route {
            Some(route) => format!("{method} {route}"),
            None => method.to_owned(),
        };
        let span = tracing::info_span!(
            "request",
            otel.name = %name,
            otel.kind = "server",
            http.request.method = method,
            http.route = route.unwrap_or("unmatched"),
            http.response.status_code = tracing::field::Empty,
            user.id = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        );
        if let Some(remote) = remote {
            otel::set_remote_parent(&span, remote);
        }
        if let Some(link) = link {
            otel::link(&span, link);
        }
        let mut trace = otel::trace_of(&span, remote.and_then(|remote| remote.state.clone()))?;
        trace.parent_span_id = remote.map(|remote| remote.span_id);
        Some((span, trace))
    }
    #[cfg(not(feature = "otel"))]
    {
        let _ = (method, route, remote, link);
        None
    }
}

/// Records the answer on a request's span.
pub fn finish_request(span: &tracing::Span, status: u16, user: Option<uuid::Uuid>) {
    if !enabled() {
        return;
    }
    span.record("http.response.status_code", status);
    // A server span is an error for a 5xx only (a 4xx is the client's).
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
    if let Some(user) = user {
        span.record("user.id", tracing::field::display(user));
    }
}

/// Runs `future` inside `span`, when there is one.
pub async fn in_span<F: std::future::Future>(span: Option<tracing::Span>, future: F) -> F::Output {
    match span {
        Some(span) => tracing::Instrument::instrument(future, span).await,
        None => future.await,
    }
}

/// The span of one database statement, named by its label (`TaskRepo.open_count`), never by
/// its values; a child of the current span.
pub fn statement(label: &'static str, system: &'static str) -> Option<tracing::Span> {
    // Only under a request or a job: a worker's polling or a migration starts no trace.
    if !enabled() || tracing::Span::current().is_none() {
        return None;
    }
    Some(tracing::info_span!(
        "db",
        otel.name = label,
        otel.kind = "client",
        db.system.name = system,
        db.operation.name = label,
    ))
}

/// The span of one Redis call (`operation`: what it does, e.g. `rate_limit.check`).
pub fn redis(operation: &'static str) -> Option<tracing::Span> {
    if !enabled() || tracing::Span::current().is_none() {
        return None;
    }
    Some(tracing::info_span!(
        "redis",
        otel.name = operation,
        otel.kind = "client",
        db.system.name = "redis",
        db.operation.name = operation,
    ))
}

/// The span of one outgoing HTTP call, and the trace context its `traceparent` sends (this
/// span as the callee's parent). It names the method and the host only: no `url.full` or
/// `url.path`, because paths and queries of outgoing calls can be credentials (webhook URLs),
/// and spans leave the process.
pub fn client(method: &str, host: &str) -> Option<(tracing::Span, TraceContext)> {
    if !enabled() {
        return None;
    }
    #[cfg(feature = "otel")]
    {
        let span = tracing::info_span!(
            "http_client",
            otel.name = %method,
            otel.kind = "client",
            http.request.method = %method,
            server.address = %host,
            http.response.status_code = tracing::field::Empty,
        );
        let state = crate::context::trace().and_then(|trace| trace.state);
        let trace = otel::trace_of(&span, state)?;
        Some((span, trace))
    }
    #[cfg(not(feature = "otel"))]
    {
        let _ = (method, host);
        None
    }
}

/// The span of a task a request or job spawns and does not wait for ([`crate::task::spawn`]):
/// a child of the current span through the OpenTelemetry context only (not a `tracing`
/// child, which would keep the spawner's span open until the task ends); `None` when spans are
/// off or there is no current span.
pub fn task() -> Option<tracing::Span> {
    if !enabled() || tracing::Span::current().is_none() {
        return None;
    }
    #[cfg(feature = "otel")]
    {
        use tracing_opentelemetry::OpenTelemetrySpanExt;
        let parent = tracing::Span::current().context();
        let span =
            tracing::info_span!(parent: None, "task", otel.name = "task", otel.kind = "internal");
        // Fails only for a span the subscriber disabled: it is not exported either way.
        let _ = span.set_parent(parent);
        Some(span)
    }
    #[cfg(not(feature = "otel"))]
    {
        None
    }
}

/// The span of one job run, continuing the trace of the request that enqueued it
/// (`producer`) and linked to that request's span; and the trace context of the run.
pub fn job(
    name: &str,
    queue: &str,
    producer: Option<&Remote>,
) -> Option<(tracing::Span, TraceContext)> {
    if !enabled() {
        return None;
    }
    #[cfg(feature = "otel")]
    {
        let span = tracing::info_span!(
            "job",
            otel.name = %format!("{queue} process {name}"),
            otel.kind = "consumer",
            messaging.operation.type = "process",
            messaging.destination.name = %queue,
            job.name = %name,
        );
        if let Some(producer) = producer {
            otel::set_remote_parent(&span, producer);
            otel::link(&span, producer);
        }
        let trace = otel::trace_of(&span, producer.and_then(|producer| producer.state.clone()))?;
        Some((span, trace))
    }
    #[cfg(not(feature = "otel"))]
    {
        let _ = (name, queue, producer);
        None
    }
}

#[cfg(feature = "otel")]
mod otel {
    use axum::http::HeaderValue;
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    };
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    use crate::trace::{Remote, TraceContext};

    fn span_context(remote: &Remote) -> SpanContext {
        let state = remote
            .state
            .as_ref()
            .and_then(|state| state.to_str().ok())
            .and_then(|state| state.parse::<TraceState>().ok())
            .unwrap_or_default();
        SpanContext::new(
            TraceId::from(remote.trace_id),
            SpanId::from(remote.span_id),
            if remote.sampled {
                TraceFlags::SAMPLED
            } else {
                TraceFlags::NOT_SAMPLED
            },
            true,
            state,
        )
    }

    /// Makes `remote` the parent of `span` (before anything reads the span's context).
    pub(super) fn set_remote_parent(span: &tracing::Span, remote: &Remote) {
        let parent = opentelemetry::Context::new().with_remote_span_context(span_context(remote));
        // Fails only for a span the subscriber disabled: it is not exported either way.
        let _ = span.set_parent(parent);
    }

    /// Links `span` to `remote` (the producer of a job).
    pub(super) fn link(span: &tracing::Span, remote: &Remote) {
        span.add_link(span_context(remote));
    }

    /// The ids the exporter gave `span`.
    pub(super) fn trace_of(
        span: &tracing::Span,
        state: Option<HeaderValue>,
    ) -> Option<TraceContext> {
        let context = span.context();
        let own = context.span().span_context().clone();
        if !own.is_valid() {
            return None;
        }
        Some(TraceContext {
            trace_id: u128::from_be_bytes(own.trace_id().to_bytes()),
            span_id: u64::from_be_bytes(own.span_id().to_bytes()),
            parent_span_id: None,
            sampled: own.is_sampled(),
            state,
        })
    }
}
