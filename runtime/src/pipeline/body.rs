//! The body guard, innermost step of every endpoint's stack: the body limit and the body
//! deadline.
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

use crate::error::{ApiError, ErrorCode};

const FINE: u8 = 0;
const TOO_LARGE: u8 = 1;
const TOO_SLOW: u8 = 2;

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

/// What the body guard learned about a request: nothing to watch (no body, or a refusal
/// before it), or the state its wrapped body reports into.
pub(super) struct BodyWatch {
    state: Arc<AtomicU8>,
    deadline: Duration,
}

/// The 413 for a declared `Content-Length` over `limit`, before any byte is read.
pub(super) fn refuse_declared(request: &Request<Body>, limit: usize) -> Option<Response> {
    declared_length(request)
        .is_some_and(|length| length > limit as u64)
        .then(too_large)
}

/// Wraps the body so that it fails past `limit` bytes or at `ends` (the earlier of the body
/// deadline and the endpoint's timeout). A body that is already complete (a GET) has nothing
/// to watch and is left as it is.
pub(super) fn guard(
    request: Request<Body>,
    limit: usize,
    deadline: Duration,
    ends: Instant,
) -> (Request<Body>, Option<BodyWatch>) {
    if http_body::Body::is_end_stream(request.body()) {
        return (request, None);
    }
    let state = Arc::new(AtomicU8::new(FINE));
    let (parts, body) = request.into_parts();
    let guarded = GuardedBody {
        inner: body,
        limit,
        received: 0,
        ends,
        deadline: None,
        state: state.clone(),
    };
    let request = Request::from_parts(parts, Body::new(guarded));
    (request, Some(BodyWatch { state, deadline }))
}

impl BodyWatch {
    /// The 413 or 408 that replaces whatever the handler answered after the body failed.
    pub(super) fn verdict(&self) -> Option<Response> {
        match self.state.load(Ordering::Acquire) {
            TOO_LARGE => Some(too_large()),
            TOO_SLOW => Some(too_slow(self.deadline)),
            _ => None,
        }
    }
}

/// The request body, failing past the limit or the deadline (and remembering which).
struct GuardedBody {
    inner: Body,
    limit: usize,
    received: usize,
    ends: Instant,
    /// Armed on the first wait only: most bodies arrive whole and never need the timer.
    deadline: Option<Pin<Box<Sleep>>>,
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
                let ends = this.ends;
                let deadline = this
                    .deadline
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(ends)));
                if deadline.as_mut().poll(cx).is_ready() {
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
