//! The per-endpoint stack fused into one service: timeout → authentication + authorization →
//! in-flight cap → rate limit → response cache → body guard → idempotency key → the handler
//! (with axum's body limit).
//!
//! One hand-written future for all of it; only the paths that wait for something before
//! the handler may be called (an API key lookup, a Redis rate-limit check, a cache lookup,
//! an idempotency record) box theirs.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, header};
use axum::response::{IntoResponse, Response};
use pin_project_lite::pin_project;
use tokio::time::{Instant, Timeout};
use tower::{Layer, Service};

use super::authenticate::{admit, api_key, authenticate};
use super::body::{self, BodyWatch};
use super::in_flight::{InFlight, Ticket};
use super::limit::{Admitted, EndpointLimit, Outcome};
use super::timeout::after;
use crate::auth::{Access, ApiKeyVerifier, JwtKeys, Principal, Schemes};
use crate::context;
use crate::error::ApiError;

/// Everything one endpoint's stack needs, fixed when the router is built.
pub(super) struct EndpointOptions {
    pub(super) access: Access,
    pub(super) keys: Arc<JwtKeys>,
    pub(super) api_keys: Option<Arc<dyn ApiKeyVerifier>>,
    /// `None` on the health endpoints, which are never capped.
    pub(super) in_flight: Option<InFlight>,
    pub(super) limit: Option<EndpointLimit>,
    pub(super) body_limit: usize,
    pub(super) body_timeout: Duration,
    pub(super) timeout: Duration,
    pub(super) state: Option<super::StateInserter>,
    /// Set on an `idempotent` endpoint.
    pub(super) idempotent: Option<super::idempotent::Idempotent>,
    /// Set on a `cache(..)` endpoint.
    pub(super) cached: Option<super::cached::Cached>,
    /// Tags a 2xx answer makes stale (`invalidates = [..]`), and the versions to bump.
    pub(super) invalidates: Option<(&'static [&'static str], crate::cache::Tags)>,
}

/// The per-endpoint stack as one layer.
#[derive(Clone)]
pub struct EndpointLayer {
    options: Arc<EndpointOptions>,
}

impl std::fmt::Debug for EndpointLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointLayer")
            .field("access", &self.options.access)
            .field("timeout", &self.options.timeout)
            .finish_non_exhaustive()
    }
}

impl EndpointLayer {
    pub(super) fn new(options: EndpointOptions) -> Self {
        Self {
            options: Arc::new(options),
        }
    }
}

impl<S> Layer<S> for EndpointLayer {
    type Service = EndpointService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        EndpointService {
            inner,
            options: self.options.clone(),
        }
    }
}

/// The service of [`EndpointLayer`].
#[derive(Clone)]
pub struct EndpointService<S> {
    inner: S,
    options: Arc<EndpointOptions>,
}

type BoxedResponse = Pin<Box<dyn Future<Output = Response> + Send>>;

impl<S> Service<Request<Body>> for EndpointService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = EndpointFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        if let Some(insert) = &self.options.state {
            insert(request.extensions_mut());
        }
        let timeout = self.options.timeout;
        let started = Instant::now();
        let ends = after(started, timeout);
        let schemes = match self.options.access {
            Access::Public => Schemes::Any,
            Access::Protected { schemes, .. } => schemes,
        };
        // The body deadline is total, counted from the request reaching the endpoint, and
        // ends no later than the timeout.
        let body_ends = after(started, self.options.body_timeout).min(ends);
        let stage = if request.extensions().get::<super::guard::Shed>().is_some() {
            self.shed(request)
        } else {
            match super::conditional::Caching::refusal(&request) {
                Some(refused) => Stage::ready(refused.into_response()),
                None => self.authenticate(request, body_ends, schemes),
            }
        };
        EndpointFuture {
            timeout,
            inner: tokio::time::timeout_at(ends, stage),
        }
    }
}

impl<S> EndpointService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    /// Layers 6 and 7: authentication, then authorization (default deny).
    fn authenticate(
        &mut self,
        request: Request<Body>,
        body_ends: Instant,
        schemes: Schemes,
    ) -> Stage<S::Future> {
        let access = self.options.access;
        let has_bearer = request.headers().contains_key(header::AUTHORIZATION);
        match api_key(request.headers()) {
            // An API key alone, where keys are accepted: look it up (a database round trip).
            Ok(Some(key)) if !has_bearer && schemes.accepts_api_key() => {
                let key = key.to_owned();
                let options = self.options.clone();
                let mut inner = self.owned_inner();
                Stage::Boxed {
                    future: Box::pin(async move {
                        let outcome = match &options.api_keys {
                            Some(verifier) => verifier
                                .verify(&key)
                                .await
                                .and_then(|p| p.ok_or_else(ApiError::unauthenticated))
                                .map(Some),
                            None => Err(ApiError::internal("API keys need a database")),
                        };
                        match admitted(access, outcome) {
                            Ok(principal) => {
                                run(&options, &mut inner, request, principal, body_ends).await
                            }
                            Err(response) => *response,
                        }
                    }),
                }
            }
            // Both kinds at once, an unreadable key, or a key where only JWTs are accepted:
            // refused on protected endpoints, ignored on public ones.
            Ok(Some(_)) | Err(()) => match access {
                Access::Public => run(&self.options, &mut self.inner, request, None, body_ends),
                Access::Protected { .. } => {
                    Stage::ready(ApiError::unauthenticated().into_response())
                }
            },
            Ok(None) => {
                let outcome = if schemes.accepts_jwt() {
                    authenticate(request.headers(), &self.options.keys)
                } else if has_bearer {
                    Err(ApiError::unauthenticated())
                } else {
                    Ok(None)
                };
                match admitted(access, outcome) {
                    Ok(principal) => run(
                        &self.options,
                        &mut self.inner,
                        request,
                        principal,
                        body_ends,
                    ),
                    Err(response) => Stage::ready(*response),
                }
            }
        }
    }

    /// A request the server sheds: a public endpoint's cache answers it if it can, every
    /// other endpoint refuses it as the shedding would have.
    fn shed(&self, request: Request<Body>) -> Stage<S::Future> {
        match &self.options.cached {
            Some(cached) if matches!(self.options.access, Access::Public) => {
                Stage::ready(super::cached::while_shedding(cached, &request))
            }
            _ => Stage::ready(super::guard::shed().into_response()),
        }
    }

    /// The inner service, owned, for a path that calls it after waiting (the usual tower
    /// `clone + mem::replace`: the clone stays, the ready one goes).
    fn owned_inner(&mut self) -> S {
        let clone = self.inner.clone();
        std::mem::replace(&mut self.inner, clone)
    }
}

/// The authentication outcome under the endpoint's rule; the user goes into the request
/// context as soon as it is known (the access log names it, on a 403 too).
fn admitted(
    access: Access,
    outcome: Result<Option<Principal>, ApiError>,
) -> Result<Option<Principal>, Box<Response>> {
    if let Ok(Some(principal)) = &outcome {
        context::set_user_id(principal.user_id());
    }
    admit(access, outcome)
}

/// Everything after authorization: in-flight cap, rate limit, body guard, the handler.
fn run<S>(
    options: &Arc<EndpointOptions>,
    inner: &mut S,
    mut request: Request<Body>,
    principal: Option<Principal>,
    body_ends: Instant,
) -> Stage<S::Future>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    if let Some(principal) = principal {
        request.extensions_mut().insert(principal);
    }
    let principal = request.extensions().get::<Principal>();
    let ip = context::client_ip();
    let ticket = match &options.in_flight {
        Some(in_flight) => match in_flight.admit(principal, ip) {
            Ok(ticket) => ticket,
            Err(refused) => return Stage::ready(refused.response()),
        },
        None => None,
    };
    let admitted = match &options.limit {
        None => None,
        Some(limit) => match limit.check(principal, ip) {
            Outcome::Admitted(admitted) => Some(admitted),
            Outcome::Refused(response) => return Stage::ready(response),
            Outcome::Later(pending) => {
                // A Redis round trip comes first and the handler is called after it.
                let clone = inner.clone();
                let mut inner = std::mem::replace(inner, clone);
                let options = options.clone();
                return Stage::Boxed {
                    future: Box::pin(async move {
                        let Some(limit) = &options.limit else {
                            return ApiError::new(crate::error::ErrorCode::Internal)
                                .into_response();
                        };
                        match limit.resolve(pending.await) {
                            Outcome::Admitted(admitted) => {
                                call(
                                    &options,
                                    &mut inner,
                                    request,
                                    ticket,
                                    Some(admitted),
                                    body_ends,
                                )
                                .await
                            }
                            Outcome::Refused(response) => response,
                            // `resolve` decides at once.
                            Outcome::Later(_) => {
                                ApiError::new(crate::error::ErrorCode::Internal).into_response()
                            }
                        }
                    }),
                };
            }
        },
    };
    call(options, inner, request, ticket, admitted, body_ends)
}

/// The body guard, the response cache (on a cached GET) or the idempotency key (on an
/// idempotent endpoint), then the handler; on a write that `invalidates`, its tags are bumped
/// after a 2xx and before the answer leaves, so the writer's next read, on any instance, is
/// fresh.
fn call<S>(
    options: &EndpointOptions,
    inner: &mut S,
    request: Request<Body>,
    ticket: Option<Ticket>,
    admitted: Option<Admitted>,
    body_ends: Instant,
) -> Stage<S::Future>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let stage = handle(options, inner, request, ticket, admitted, body_ends);
    match &options.invalidates {
        None => stage,
        Some((tags, versions)) => {
            let (tags, versions) = (*tags, versions.clone());
            Stage::Boxed {
                future: Box::pin(async move {
                    let response = stage.await;
                    // A 5xx may come after a commit (a failure past the write): bumped too. A
                    // 4xx wrote nothing.
                    let status = response.status();
                    if status.is_success() || status.is_server_error() {
                        versions.bump(tags).await;
                    }
                    response
                }),
            }
        }
    }
}

fn handle<S>(
    options: &EndpointOptions,
    inner: &mut S,
    request: Request<Body>,
    ticket: Option<Ticket>,
    admitted: Option<Admitted>,
    body_ends: Instant,
) -> Stage<S::Future>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    if let Some(response) = body::refuse_declared(&request, options.body_limit) {
        return Stage::ready(with_limit_headers(response, admitted));
    }
    let key = match &options.idempotent {
        Some(_) => match crate::idempotency::key(request.headers()) {
            Ok(key) => key.map(str::to_owned),
            Err(error) => return Stage::ready(with_limit_headers(error.into_response(), admitted)),
        },
        None => None,
    };
    let (request, watch) =
        body::guard(request, options.body_limit, options.body_timeout, body_ends);
    if let Some(cached) = &options.cached
        && request.method() == axum::http::Method::GET
    {
        let cached = cached.clone();
        let clone = inner.clone();
        let inner = std::mem::replace(inner, clone);
        return Stage::Boxed {
            future: Box::pin(async move {
                let response = super::cached::run(&cached, inner, request, watch).await;
                drop(ticket);
                with_limit_headers(response, admitted)
            }),
        };
    }
    // Scoped to the principal: idempotent endpoints are never public (the macro refuses it),
    // so a request with a key always has one; without a key the request runs as usual.
    if let (Some(settings), Some(key)) = (&options.idempotent, key)
        && let Some(principal) = request.extensions().get::<Principal>()
    {
        // An API key may hold fewer roles than its owner: its answers are its own, never
        // replayed to the owner's token or to another key (nor theirs to it).
        let scope = match principal.api_key_id() {
            Some(key) => format!("key:{key}"),
            None => format!("user:{}", principal.user_id()),
        };
        let settings = settings.clone();
        let body_limit = options.body_limit;
        let clone = inner.clone();
        let inner = std::mem::replace(inner, clone);
        return Stage::Boxed {
            future: Box::pin(async move {
                let response = super::idempotent::run(
                    &settings, inner, request, key, scope, watch, body_limit,
                )
                .await;
                // Leaving releases the in-flight place.
                drop(ticket);
                with_limit_headers(response, admitted)
            }),
        };
    }
    Stage::Running {
        future: inner.call(request),
        ticket,
        admitted,
        watch,
    }
}

fn with_limit_headers(mut response: Response, admitted: Option<Admitted>) -> Response {
    if let Some(admitted) = admitted {
        admitted.apply(&mut response);
    }
    response
}

pin_project! {
    #[project = StageProjection]
    pub(super) enum Stage<F> {
        Ready { response: Option<Response> },
        Running {
            #[pin]
            future: F,
            ticket: Option<Ticket>,
            admitted: Option<Admitted>,
            watch: Option<BodyWatch>,
        },
        Boxed { future: BoxedResponse },
    }
}

impl<F> Stage<F> {
    fn ready(response: Response) -> Self {
        Stage::Ready {
            response: Some(response),
        }
    }
}

impl<F> Future for Stage<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        match self.project() {
            StageProjection::Ready { response } => {
                Poll::Ready(response.take().unwrap_or_else(|| {
                    ApiError::new(crate::error::ErrorCode::Internal).into_response()
                }))
            }
            StageProjection::Running {
                future,
                ticket,
                admitted,
                watch,
            } => {
                let Poll::Ready(Ok(response)) = future.poll(cx) else {
                    return Poll::Pending;
                };
                // Leaving releases the in-flight place.
                ticket.take();
                // After a body failure, whatever the handler answered becomes the 413 or 408.
                let response = watch
                    .as_ref()
                    .and_then(BodyWatch::verdict)
                    .unwrap_or(response);
                Poll::Ready(with_limit_headers(response, admitted.take()))
            }
            StageProjection::Boxed { future } => future.as_mut().poll(cx),
        }
    }
}

pin_project! {
    /// The future of [`EndpointService`]: the whole stack under the endpoint's timeout.
    pub struct EndpointFuture<F> {
        #[pin]
        inner: Timeout<Stage<F>>,
        timeout: Duration,
    }
}

impl<F> Future for EndpointFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.inner.poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(response)) => Poll::Ready(Ok(response)),
            Poll::Ready(Err(_elapsed)) => {
                tracing::warn!(
                    timeout_ms = this.timeout.as_millis() as u64,
                    "request timed out"
                );
                Poll::Ready(Ok(ApiError::unavailable(1)
                    .with_message("the request timed out")
                    .into_response()))
            }
        }
    }
}
