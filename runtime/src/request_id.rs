//! Layer 1 of the pipeline: the request id, and the envelope safety net.
//!
//! Accepts a sane incoming `X-Request-ID` (1..=128 of `[A-Za-z0-9._-]`), else generates a
//! UUIDv7; makes it current for the request's task (error bodies and log lines read it), and
//! echoes it on every response. Because this layer sees every response last, it also wraps any
//! error response that is not an envelope yet (axum's 405, a user's own route) into one.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Request, header};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use crate::error::{ApiError, Enveloped, ErrorCode};

/// The `X-Request-ID` header.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static CURRENT: RequestId;
}

/// The id of the request being handled; also in the request extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(Arc<str>);

impl RequestId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A fresh UUIDv7 id.
    pub fn generate() -> Self {
        Self(Arc::from(uuid::Uuid::now_v7().to_string()))
    }

    /// The incoming value if it is 1..=128 characters of `[A-Za-z0-9._-]`.
    pub fn accept(value: &[u8]) -> Option<Self> {
        let sane = !value.is_empty()
            && value.len() <= 128
            && value
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        // The bytes were just checked to be ASCII.
        sane.then(|| std::str::from_utf8(value).ok().map(|s| Self(Arc::from(s))))
            .flatten()
    }
}

/// The id of the request the calling task is handling, if any.
pub fn current() -> Option<RequestId> {
    CURRENT.try_with(RequestId::clone).ok()
}

/// Layer 1: request id and the envelope safety net.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestIdLayer;

impl<S> Layer<S> for RequestIdLayer {
    type Service = RequestIdService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RequestIdService { inner }
    }
}

/// The service of [`RequestIdLayer`].
#[derive(Clone, Debug)]
pub struct RequestIdService<S> {
    inner: S,
}

impl<S> Service<Request<Body>> for RequestIdService<S>
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
        let id = request
            .headers()
            .get(&REQUEST_ID_HEADER)
            .and_then(|value| RequestId::accept(value.as_bytes()))
            .unwrap_or_else(RequestId::generate);
        request.extensions_mut().insert(id.clone());
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(CURRENT.scope(id.clone(), async move {
            let Ok(response) = inner.call(request).await;
            let mut response = ensure_envelope(response);
            if let Ok(value) = HeaderValue::from_str(id.as_str()) {
                response.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
            Ok(response)
        }))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_sane_ids() {
        assert!(RequestId::accept(b"abc-123_x.y").is_some());
        assert!(RequestId::accept(b"").is_none());
        assert!(RequestId::accept(&[b'a'; 129]).is_none());
        assert!(RequestId::accept(&[b'a'; 128]).is_some());
        assert!(RequestId::accept(b"a\r\nb").is_none());
        assert!(RequestId::accept(b"a b").is_none());
        assert!(RequestId::accept("é".as_bytes()).is_none());
    }

    #[test]
    fn generated_ids_are_uuid_v7() {
        let id = RequestId::generate();
        let parsed = uuid::Uuid::parse_str(id.as_str()).map(|u| u.get_version_num());
        assert_eq!(parsed, Ok(7));
    }
}
