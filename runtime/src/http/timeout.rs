//! Per-endpoint request timeout: past it the handler is dropped and the client gets a 503.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use crate::error::ApiError;

/// When the endpoint's timeout expires. The body guard ends its body deadline no later, so
/// a request still waiting for its body then is the client's 408, not the handler's 503 (the
/// timeout polls the request before its own timer).
#[derive(Clone, Copy, Debug)]
pub struct RequestDeadline(pub tokio::time::Instant);

/// `start + duration`, or a time that never comes when that overflows (a configured
/// `Duration::MAX` must not panic).
pub(crate) fn after(start: tokio::time::Instant, duration: Duration) -> tokio::time::Instant {
    start
        .checked_add(duration)
        .or_else(|| start.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(start)
}

/// Times out the wrapped endpoint after `duration` with 503 `UNAVAILABLE` and `Retry-After`.
#[derive(Clone, Copy, Debug)]
pub struct TimeoutLayer {
    duration: Duration,
}

impl TimeoutLayer {
    /// A timeout of `duration`.
    pub fn new(duration: Duration) -> Self {
        Self { duration }
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = TimeoutService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        TimeoutService {
            inner,
            duration: self.duration,
        }
    }
}

/// The service of [`TimeoutLayer`].
#[derive(Clone, Debug)]
pub struct TimeoutService<S> {
    inner: S,
    duration: Duration,
}

impl<S> Service<Request<Body>> for TimeoutService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        let duration = self.duration;
        request.extensions_mut().insert(RequestDeadline(after(
            tokio::time::Instant::now(),
            duration,
        )));
        let future = self.inner.call(request);
        Box::pin(async move {
            match tokio::time::timeout(duration, future).await {
                Ok(result) => result,
                Err(_) => {
                    tracing::warn!(
                        timeout_ms = duration.as_millis() as u64,
                        "request timed out"
                    );
                    Ok(ApiError::unavailable(1)
                        .with_message("the request timed out")
                        .into_response())
                }
            }
        })
    }
}
