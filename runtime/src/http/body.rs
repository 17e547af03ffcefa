//! The body guard, innermost layer of every endpoint: the body limit and the body deadline.
//!
//! - A declared `Content-Length` over the endpoint's limit is a 413 at once: the handler does
//!   not run and no byte of the body is read.
//! - The body is wrapped so that, wherever it is read (rampart's `Json`, axum's `Bytes` or
//!   `String`, a stream), it fails once more than the limit has arrived (a chunked body has no
//!   length to check first), or once the deadline has passed. The deadline is a total one,
//!   counted from the moment the request reached the endpoint: a client sending one byte now
//!   and then does not extend it. It ends no later than the endpoint's timeout, so a body
//!   still awaited then is a 408 (the client's doing), not the timeout's 503.
//! - Whatever the handler answers after such a failure is replaced by the 413 or 408 envelope
//!   with `Connection: close`: the rest of the body is never read, so the connection cannot be
//!   reused.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Request, header};
use axum::response::{IntoResponse, Response};
use tokio::time::{Instant, Sleep};
use tower::{Layer, Service};

use super::RequestDeadline;
use crate::error::{ApiError, ErrorCode};

const FINE: u8 = 0;
const TOO_LARGE: u8 = 1;
const TOO_SLOW: u8 = 2;

/// Innermost per-endpoint layer: body limit and body deadline.
#[derive(Clone, Copy, Debug)]
pub struct BodyGuardLayer {
    limit: usize,
    deadline: Duration,
}

impl BodyGuardLayer {
    /// At most `limit` bytes, all of them within `deadline` of the request reaching the endpoint.
    pub fn new(limit: usize, deadline: Duration) -> Self {
        Self { limit, deadline }
    }
}

impl<S> Layer<S> for BodyGuardLayer {
    type Service = BodyGuardService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        BodyGuardService {
            inner,
            limit: self.limit,
            deadline: self.deadline,
        }
    }
}

/// The service of [`BodyGuardLayer`].
#[derive(Clone, Debug)]
pub struct BodyGuardService<S> {
    inner: S,
    limit: usize,
    deadline: Duration,
}

/// The error a guarded body yields; the layer turns it into the response.
#[derive(Debug, thiserror::Error)]
enum BodyError {
    #[error("the request body is larger than the endpoint accepts")]
    TooLarge,
    #[error("the request body did not arrive in time")]
    TooSlow,
}

fn closing(error: ApiError) -> Response {
    error
        .with_header(header::CONNECTION, HeaderValue::from_static("close"))
        .into_response()
}

fn too_large() -> Response {
    metrics::counter!("http_body_refused_total", "reason" => "too_large").increment(1);
    closing(ApiError::new(ErrorCode::PayloadTooLarge))
}

fn too_slow(deadline: Duration) -> Response {
    metrics::counter!("http_body_refused_total", "reason" => "deadline").increment(1);
    tracing::warn!(
        body_timeout_ms = deadline.as_millis() as u64,
        "request body not received before its deadline"
    );
    closing(ApiError::new(ErrorCode::RequestTimeout))
}

/// The declared length, when there is exactly one parseable `Content-Length`.
fn declared_length(request: &Request<Body>) -> Option<u64> {
    let mut values = request.headers().get_all(header::CONTENT_LENGTH).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    value.to_str().ok()?.trim().parse().ok()
}

impl<S> Service<Request<Body>> for BodyGuardService<S>
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

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let limit = self.limit;
        if declared_length(&request).is_some_and(|length| length > limit as u64) {
            return Box::pin(async { Ok(too_large()) });
        }
        let deadline = self.deadline;
        let mut ends = super::timeout::after(Instant::now(), deadline);
        if let Some(RequestDeadline(timeout)) = request.extensions().get::<RequestDeadline>() {
            ends = ends.min(*timeout);
        }
        let state = Arc::new(AtomicU8::new(FINE));
        let (parts, body) = request.into_parts();
        let guarded = GuardedBody {
            inner: body,
            limit,
            received: 0,
            deadline: Box::pin(tokio::time::sleep_until(ends)),
            state: state.clone(),
        };
        let future = self
            .inner
            .call(Request::from_parts(parts, Body::new(guarded)));
        Box::pin(async move {
            let response = future.await;
            Ok(match state.load(Ordering::Acquire) {
                TOO_LARGE => too_large(),
                TOO_SLOW => too_slow(deadline),
                _ => match response {
                    Ok(response) => response,
                },
            })
        })
    }
}

/// The request body, failing past the limit or the deadline (and remembering which).
struct GuardedBody {
    inner: Body,
    limit: usize,
    received: usize,
    deadline: Pin<Box<Sleep>>,
    state: Arc<AtomicU8>,
}

impl GuardedBody {
    fn fail(&self, code: u8) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        self.state.store(code, Ordering::Release);
        let error = if code == TOO_LARGE {
            BodyError::TooLarge
        } else {
            BodyError::TooSlow
        };
        Poll::Ready(Some(Err(axum::Error::new(error))))
    }
}

impl http_body::Body for GuardedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        match this.state.load(Ordering::Acquire) {
            FINE => {}
            code => return this.fail(code),
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received = this.received.saturating_add(data.len());
                    if this.received > this.limit {
                        return this.fail(TOO_LARGE);
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                if this.deadline.as_mut().poll(cx).is_ready() {
                    return this.fail(TOO_SLOW);
                }
                Poll::Pending
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
