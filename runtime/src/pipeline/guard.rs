//! Layers 4 (after CORS) and 5 fused into one service: security headers, `Host` validation,
//! load shedding, the coarse per-IP limit, and the router's shared state put on the request.
//!
//! - Security headers: `X-Content-Type-Options: nosniff` everywhere and never a `Server`
//!   header; the default `Cache-Control` (`private, no-cache` on responses to requests that
//!   carried credentials, so no shared cache keeps a user's data) and `If-None-Match` → 304
//!   (`conditional.rs`).
//! - `Host` (`host.rs`): an HTTP/1.1 request without exactly one valid `Host` is a 400 with
//!   `Connection: close` (its body is not read).
//! - Load shedding: over the concurrency limit a request is refused at once with 503 and
//!   `Retry-After` instead of joining a queue that grows without bound.
//! - The per-IP limit, before any authentication, so unauthenticated floods are cut before any
//!   token is verified or any key looked up.
//!
//! The health endpoints ([`super::HEALTH_PATHS`]) are neither counted nor shed nor throttled:
//! a load balancer must still see the instance alive and ready when it is busy, and its probes
//! share an address with nothing it should be throttled for.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{Extensions, HeaderValue, Request, header};
use axum::response::{IntoResponse, Response};
use pin_project_lite::pin_project;

use super::conditional::Caching;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::{Layer, Service};

use super::host::host_problem;
use crate::error::ApiError;
use crate::rate_limit::{Throttle, Verdict};

/// Puts the router's shared state (app, database, roles, prefix) on a request.
pub type StateInserter = Arc<dyn Fn(&mut Extensions) + Send + Sync>;

/// The global guards of a router.
#[derive(Clone)]
pub struct GuardLayer {
    shared: Arc<Shared>,
}

struct Shared {
    permits: Arc<Semaphore>,
    ip_throttle: Option<Throttle>,
    state: StateInserter,
    /// Some public endpoint has a cache: a shed anonymous GET goes on to it, marked [`Shed`],
    /// to be answered from its entry (or refused there).
    stale_on_shed: bool,
}

/// Put on an anonymous GET the server is shedding: only a public cached endpoint's entry
/// may answer it (layer 6 refuses it everywhere else, with the shedding's 503).
#[derive(Debug, Clone, Copy)]
pub(super) struct Shed;

impl std::fmt::Debug for GuardLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardLayer")
            .field("ip_throttle", &self.shared.ip_throttle)
            .finish_non_exhaustive()
    }
}

impl GuardLayer {
    /// At most `max_concurrency` requests in flight (at least 1), at most the per-IP
    /// `ip_throttle`, and `state` put on every request.
    /// `stale_on_shed`: some public endpoint has a cache that may answer shed requests.
    pub fn new(
        max_concurrency: usize,
        ip_throttle: Option<Throttle>,
        state: StateInserter,
        stale_on_shed: bool,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                permits: Arc::new(Semaphore::new(max_concurrency.max(1))),
                ip_throttle,
                state,
                stale_on_shed,
            }),
        }
    }
}

impl<S> Layer<S> for GuardLayer {
    type Service = GuardService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        GuardService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service of [`GuardLayer`].
#[derive(Clone)]
pub struct GuardService<S> {
    inner: S,
    shared: Arc<Shared>,
}

pub(super) fn shed() -> ApiError {
    metrics::counter!("http_shed_total").increment(1);
    ApiError::unavailable(1).with_message("the server is overloaded, retry later")
}

fn bad_host(problem: &'static str) -> ApiError {
    metrics::counter!("http_bad_host_total").increment(1);
    // The body is not read, so the connection cannot carry another request.
    ApiError::bad_request(problem)
        .with_header(header::CONNECTION, HeaderValue::from_static("close"))
}

/// An anonymous GET: what a public endpoint's shared entry may answer without
/// authentication.
fn sheddable_to_cache(request: &Request<Body>) -> bool {
    let headers = request.headers();
    request.method() == axum::http::Method::GET
        && !headers.contains_key(header::AUTHORIZATION)
        && !headers.contains_key(crate::auth::API_KEY_HEADER_NAME)
}

impl<S> Service<Request<Body>> for GuardService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = GuardFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        let caching = Caching::of(&request);
        let refused = |caching, error: ApiError| GuardFuture {
            caching,
            stage: GuardStage::Refused { error: Some(error) },
        };
        if let Some(problem) = host_problem(&request) {
            return refused(caching, bad_host(problem));
        }
        let exempt = super::is_exempt(request.uri().path());
        let permit = if exempt {
            None
        } else {
            match self.shared.permits.clone().try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) if self.shared.stale_on_shed && sheddable_to_cache(&request) => {
                    // Neither counted nor throttled: it is answered from memory or refused.
                    (self.shared.state)(request.extensions_mut());
                    request.extensions_mut().insert(Shed);
                    return GuardFuture {
                        caching,
                        stage: GuardStage::Inner {
                            future: self.inner.call(request),
                            permit: None,
                        },
                    };
                }
                Err(_) => return refused(caching, shed()),
            }
        };
        (self.shared.state)(request.extensions_mut());
        let ip = match &self.shared.ip_throttle {
            Some(throttle) if !exempt => {
                crate::context::client_ip().map(|ip| (throttle, ip.to_string()))
            }
            // No peer address (an in-process call): nothing to key on.
            _ => None,
        };
        let Some((throttle, ip)) = ip else {
            return GuardFuture {
                caching,
                stage: GuardStage::Inner {
                    future: self.inner.call(request),
                    permit,
                },
            };
        };
        match throttle.decide(&ip) {
            Verdict::Now(decision) if !decision.allowed => {
                refused(caching, throttle.refusal(&decision))
            }
            Verdict::Now(_) => GuardFuture {
                caching,
                stage: GuardStage::Inner {
                    future: self.inner.call(request),
                    permit,
                },
            },
            Verdict::Later(pending) => {
                // A Redis round trip comes first and the inner service is called after it, so
                // this path owns a clone of the inner service.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                let throttle = throttle.clone();
                GuardFuture {
                    caching,
                    stage: GuardStage::Waiting {
                        future: Box::pin(async move {
                            let response = match pending.await {
                                Some(decision) if !decision.allowed => {
                                    throttle.refusal(&decision).into_response()
                                }
                                _ => {
                                    let Ok(response) = inner.call(request).await;
                                    response
                                }
                            };
                            drop(permit);
                            response
                        }),
                    },
                }
            }
        }
    }
}

type BoxedResponse = Pin<Box<dyn Future<Output = Response> + Send>>;

pin_project! {
    #[project = GuardStageProjection]
    enum GuardStage<F> {
        Refused { error: Option<ApiError> },
        Inner { #[pin] future: F, permit: Option<OwnedSemaphorePermit> },
        Waiting { future: BoxedResponse },
    }
}

pin_project! {
    /// The future of [`GuardService`].
    pub struct GuardFuture<F> {
        caching: Caching,
        #[pin]
        stage: GuardStage<F>,
    }
}

impl<F> Future for GuardFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = match this.stage.project() {
            // Rendered here, inside the request's context, so the envelope has its id.
            GuardStageProjection::Refused { error } => match error.take() {
                Some(error) => error.into_response(),
                None => ApiError::new(crate::error::ErrorCode::Internal).into_response(),
            },
            GuardStageProjection::Inner { future, permit } => match future.poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(response)) => {
                    permit.take();
                    response
                }
            },
            GuardStageProjection::Waiting { future } => match future.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(response) => response,
            },
        };
        let headers = response.headers_mut();
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.remove(header::SERVER);
        Poll::Ready(Ok(this.caching.apply(response)))
    }
}
