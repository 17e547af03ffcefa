//! Layers 1–3 fused into one service: request id, access log and metrics, panic recovery, and
//! the envelope safety net.
//!
//! They used to be three layers, each with a boxed future and each cloning the route below it
//! per request. They share one hand-written future now, and one request context
//! ([`crate::context`]) made current for the request's whole handling:
//!
//! - the request id: a sane incoming `X-Request-ID` (1..=128 of `[A-Za-z0-9._-]`), else a
//!   UUIDv7; echoed on every response;
//! - the trace: the caller's W3C `traceparent` continued (a malformed one ignored), else a new
//!   trace; this request's span answered as `traceresponse`;
//! - the client IP, computed here once for every layer and extractor below;
//! - a `request started` line when the request enters (debug by default, info with
//!   `RAMPART_LOG_REQUEST_START=info`), so a request that hangs leaves a trace;
//! - one `request completed` line (target `rampart::access`) and one metrics sample per
//!   request, with the user id when authentication found one;
//! - a panic below, in `call` or in the future, becomes a generic 500 envelope; the server
//!   keeps serving (the panic hook logs message and location with the request id);
//! - any error response that is not an envelope yet (axum's 405, a user's own route) is
//!   wrapped into one, keeping status and headers.

use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::{Method, Request, header};
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;
use pin_project_lite::pin_project;
use tokio::task::futures::TaskLocalFuture;
use tower::{Layer, Service};

use crate::auth::AuthenticatedUser;
use crate::context::{self, REQUEST_ID_HEADER, RequestContext, RequestId};
use crate::error::{ApiError, Enveloped, ErrorCode};
use crate::observability::RequestStartLevel;
use crate::rate_limit::client_ip;
use crate::trace::{IncomingTrace, TRACERESPONSE, TraceContext};

/// Route label of requests that matched no route: never the raw path (unbounded cardinality,
/// and paths can carry data).
const UNMATCHED_ROUTE: &str = "unmatched";

/// Layers 1–3: request id, access log and metrics, panic recovery, envelope safety net.
#[derive(Clone, Debug)]
pub struct EdgeLayer {
    trusted_proxies: Arc<[IpNet]>,
    worker_span: bool,
    validator_seed: u64,
    request_start: RequestStartLevel,
    incoming_trace: IncomingTrace,
}

impl EdgeLayer {
    /// The edge of a router whose client IPs are read behind `trusted_proxies`.
    ///
    /// `worker_span`: also open a field-less `request` span per request. Only a router over
    /// SQLite needs it: sqlx runs SQLite statements on a worker thread, which cannot see the
    /// task's context but enters the span sqlx carries across, so its statement logs still
    /// name the request. Everything else reads the context and pays for no span.
    pub fn new(trusted_proxies: Arc<[IpNet]>, worker_span: bool) -> Self {
        Self {
            trusted_proxies,
            worker_span,
            validator_seed: 0,
            request_start: RequestStartLevel::Debug,
            incoming_trace: IncomingTrace::Continue,
        }
    }

    /// The same edge, treating a request's `traceparent` as `incoming` says.
    pub fn with_incoming_trace(mut self, incoming: IncomingTrace) -> Self {
        self.incoming_trace = incoming;
        self
    }

    /// The same edge, writing each request's `request started` line at `level`.
    pub fn with_request_start(mut self, level: RequestStartLevel) -> Self {
        self.request_start = level;
        self
    }

    /// The same edge, keying its responses' `ETag`s with `seed` (see
    /// [`RequestContext::with_validator_seed`]).
    pub fn with_validator_seed(mut self, seed: u64) -> Self {
        self.validator_seed = seed;
        self
    }
}

impl<S> Layer<S> for EdgeLayer {
    type Service = EdgeService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        EdgeService {
            inner,
            trusted_proxies: self.trusted_proxies.clone(),
            worker_span: self.worker_span,
            validator_seed: self.validator_seed,
            request_start: self.request_start,
            incoming_trace: self.incoming_trace,
            handles: Arc::default(),
        }
    }
}

/// The service of [`EdgeLayer`].
#[derive(Clone)]
pub struct EdgeService<S> {
    inner: S,
    trusted_proxies: Arc<[IpNet]>,
    worker_span: bool,
    validator_seed: u64,
    request_start: RequestStartLevel,
    incoming_trace: IncomingTrace,
    /// Metric handles of the route this service wraps (`Router::layer` makes one per route).
    handles: Arc<Mutex<RouteHandles>>,
}

impl<S> std::fmt::Debug for EdgeService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeService").finish_non_exhaustive()
    }
}

impl<S> Service<Request<Body>> for EdgeService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = TaskLocalFuture<RequestContext, EdgeFuture<S::Future>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let started = Instant::now();
        let id = request
            .headers()
            .get(&REQUEST_ID_HEADER)
            .and_then(RequestId::accept)
            .unwrap_or_else(RequestId::generate);
        let ip: Option<IpAddr> = client_ip(&request, &self.trusted_proxies);
        let route = request.extensions().get::<MatchedPath>().cloned();
        // The caller's trace continues here, unless the service restarts every trace and only
        // links the caller's (a malformed `traceparent` starts a new one either way).
        let (remote, link) = self
            .incoming_trace
            .split(crate::trace::Remote::from_headers(request.headers()));
        let method = method_label(request.method());
        let mut context =
            RequestContext::new(id, ip, method, route).with_validator_seed(self.validator_seed);
        if self.worker_span || crate::spans::enabled() {
            // The span copies the context at its start, before authentication: it shares the
            // user with the context instead, so the worker's lines carry it once known.
            context = context.with_shared_user();
        }
        let inner = &mut self.inner;
        let worker_span = self.worker_span;
        let request_start = self.request_start;
        let ((called, span), context) = context::sync_scope(context, || {
            // With spans exported, the request's span gives the ids (made with the context
            // current, so that the JSON layer ties the span to the request); otherwise they
            // are made here, and the caller's sampling decision is passed on.
            let exported = context::with(|context| {
                crate::spans::request(method, context.route(), remote.as_ref(), link.as_ref())
            })
            .flatten();
            let span = match exported {
                Some((span, trace)) => {
                    crate::observability::record_trace_on_span(&span, &trace);
                    context::with(|context| context.set_trace(trace));
                    Some(span)
                }
                None => {
                    let sampled = remote.as_ref().is_some_and(|remote| remote.sampled);
                    let trace = TraceContext::start(remote, sampled, context::next_random);
                    context::with(|context| context.set_trace(trace));
                    worker_span.then(|| tracing::info_span!("request"))
                }
            };
            // After the trace is known, so the line carries its ids.
            crate::observability::log_request_start(request_start);
            let entered = span.as_ref().map(tracing::Span::enter);
            let called = std::panic::catch_unwind(AssertUnwindSafe(|| inner.call(request)));
            drop(entered);
            (called, span)
        });
        let stage = match called {
            Ok(future) => Stage::Running { future },
            Err(_) => Stage::Panicked,
        };
        context::scope(
            context,
            EdgeFuture {
                stage,
                started,
                span,
                handles: self.handles.clone(),
            },
        )
    }
}

pin_project! {
    #[project = StageProjection]
    enum Stage<F> {
        Running { #[pin] future: F },
        Panicked,
        Done,
    }
}

pin_project! {
    /// The future of [`EdgeService`]; runs inside the request's context.
    pub struct EdgeFuture<F> {
        #[pin]
        stage: Stage<F>,
        started: Instant,
        span: Option<tracing::Span>,
        handles: Arc<Mutex<RouteHandles>>,
    }
}

impl<F> Future for EdgeFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let _entered = this.span.as_ref().map(tracing::Span::enter);
        let response = match this.stage.as_mut().project() {
            StageProjection::Running { future } => {
                match std::panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
                    Ok(Poll::Pending) => return Poll::Pending,
                    Ok(Poll::Ready(Ok(response))) => response,
                    Err(_) => panic_response(),
                }
            }
            StageProjection::Panicked => panic_response(),
            // Polled after completion: answer again rather than panic.
            StageProjection::Done => panic_response(),
        };
        this.stage.set(Stage::Done);
        let response = finish(response, *this.started, this.handles);
        if let Some(span) = this.span.as_ref() {
            crate::spans::finish_request(
                span,
                response.status().as_u16(),
                context::with(|context| context.user_id()).flatten(),
            );
        }
        Poll::Ready(Ok(response))
    }
}

fn panic_response() -> Response {
    metrics::counter!("http_panics_total").increment(1);
    ApiError::new(ErrorCode::Internal).into_response()
}

/// Logs and counts the response, then makes it an envelope if needed and stamps the id.
fn finish(response: Response, started: Instant, handles: &Mutex<RouteHandles>) -> Response {
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    if let Some(AuthenticatedUser(user)) = response.extensions().get::<AuthenticatedUser>() {
        context::set_user_id(*user);
    }
    let duration_ms = elapsed.as_secs_f64() * 1000.0;
    crate::observability::log_access(status, duration_ms);
    let code = (status >= 400).then(|| {
        response
            .extensions()
            .get::<ErrorCode>()
            .copied()
            .unwrap_or_else(|| ErrorCode::for_status(response.status()))
    });
    let mut response = ensure_envelope(response);
    super::cached::mark_stale(&mut response);
    context::with(|context| {
        let route = context.route().unwrap_or(UNMATCHED_ROUTE);
        record_metrics(
            handles,
            context.method(),
            route,
            status,
            code,
            elapsed.as_secs_f64(),
        );
        response.headers_mut().insert(
            REQUEST_ID_HEADER,
            context.request_id().header_value().clone(),
        );
        if let Some(trace) = context.trace() {
            response
                .headers_mut()
                .insert(TRACERESPONSE, trace.header_value());
        }
    });
    response
}

/// Wraps an error response that is not an envelope yet, keeping its status and headers.
fn ensure_envelope(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.extensions().get::<Enveloped>().is_some()
    {
        return response;
    }
    let (parts, _body) = response.into_parts();
    let mut enveloped = ApiError::new(ErrorCode::for_status(status)).into_response();
    *enveloped.status_mut() = status;
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            enveloped.headers_mut().append(name.clone(), value.clone());
        }
    }
    enveloped
}

/// The method as a metrics label: the known methods, else `OTHER`, so a client inventing
/// methods cannot grow the label set (or the handle cache) without bound.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Metric handles of one route, looked up once and reused: building label sets and looking
/// them up in the registry on every request was a measurable part of the pipeline's cost.
#[derive(Default)]
struct RouteHandles {
    /// The route label these handles carry (one route per service; checked, not assumed).
    route: Option<Box<str>>,
    requests: Vec<(&'static str, u16, metrics::Counter)>,
    durations: Vec<(&'static str, metrics::Histogram)>,
    errors: Vec<(&'static str, ErrorCode, metrics::Counter)>,
}

fn record_metrics(
    handles: &Mutex<RouteHandles>,
    method: &'static str,
    route: &str,
    status: u16,
    code: Option<ErrorCode>,
    seconds: f64,
) {
    let mut guard = handles.lock().unwrap_or_else(PoisonError::into_inner);
    let mut spare = RouteHandles::default();
    let handles = match guard.route.as_deref() {
        Some(label) if label == route => &mut *guard,
        None => {
            guard.route = Some(Box::from(route));
            &mut *guard
        }
        // A service that saw another route (a nested router): register without caching.
        Some(_) => &mut spare,
    };
    let owned_route = || route.to_owned();
    match handles
        .requests
        .iter()
        .find(|(m, s, _)| *m == method && *s == status)
    {
        Some((_, _, counter)) => counter.increment(1),
        None => {
            let labels = [
                ("method", method.to_owned()),
                ("route", owned_route()),
                ("status", status.to_string()),
            ];
            let counter = metrics::counter!("http_requests_total", &labels);
            counter.increment(1);
            handles.requests.push((method, status, counter));
        }
    }
    match handles.durations.iter().find(|(m, _)| *m == method) {
        Some((_, histogram)) => histogram.record(seconds),
        None => {
            let labels = [("method", method.to_owned()), ("route", owned_route())];
            let histogram = metrics::histogram!("http_request_duration_seconds", &labels);
            histogram.record(seconds);
            handles.durations.push((method, histogram));
        }
    }
    if let Some(code) = code {
        match handles
            .errors
            .iter()
            .find(|(m, c, _)| *m == method && *c == code)
        {
            Some((_, _, counter)) => counter.increment(1),
            None => {
                let labels = [
                    ("method", method.to_owned()),
                    ("route", owned_route()),
                    ("code", code.as_str().to_owned()),
                ];
                let counter = metrics::counter!("http_errors_total", &labels);
                counter.increment(1);
                handles.errors.push((method, code, counter));
            }
        }
    }
}
