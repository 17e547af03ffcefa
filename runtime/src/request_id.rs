//! Layer 1 of the pipeline: the request id, and the envelope safety net.
//!
//! Accepts a sane incoming `X-Request-ID` (1..=128 of `[A-Za-z0-9._-]`), else generates a
//! UUIDv7; makes it current for the request's task (error bodies and log lines read it), and
//! echoes it on every response. Because this layer sees every response last, it also wraps any
//! error response that is not an envelope yet (axum's 405, a user's own route) into one.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
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
pub struct RequestId(HeaderValue);

impl RequestId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Both constructors admit only visible ASCII, so this never falls back.
        self.0.to_str().unwrap_or_default()
    }

    /// The id as a header value (shares its bytes; no copy per response).
    pub fn header_value(&self) -> &HeaderValue {
        &self.0
    }

    /// A fresh UUIDv7 id.
    ///
    /// The random bits come from a per-thread xorshift generator seeded once from the OS:
    /// request ids need uniqueness, not secrecy, and `Uuid::now_v7` asks the OS for randomness
    /// on every call (a syscall per request, measured in docs/benchmarks.md).
    pub fn generate() -> Self {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or_default();
        let random = next_random().to_le_bytes();
        let mut bytes = [0u8; 10];
        bytes[..8].copy_from_slice(&random);
        bytes[8..].copy_from_slice(&next_random().to_le_bytes()[..2]);
        let uuid = uuid::Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid();
        let mut buffer = uuid::Uuid::encode_buffer();
        let text = uuid.hyphenated().encode_lower(&mut buffer);
        Self(HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("invalid")))
    }

    /// The incoming value if it is 1..=128 characters of `[A-Za-z0-9._-]`.
    pub fn accept(value: &HeaderValue) -> Option<Self> {
        let bytes = value.as_bytes();
        let sane = !bytes.is_empty()
            && bytes.len() <= 128
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        sane.then(|| Self(value.clone()))
    }
}

thread_local! {
    static RANDOM: std::cell::Cell<u64> = std::cell::Cell::new(seed());
}

fn seed() -> u64 {
    let mut bytes = [0u8; 8];
    // Without OS randomness, fall back to time and thread identity: still unique enough.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(1);
        bytes = (nanos as u64).to_le_bytes();
    }
    u64::from_le_bytes(bytes) | 1
}

/// xorshift64*: fast, non-cryptographic, per thread.
fn next_random() -> u64 {
    RANDOM.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
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
            .and_then(RequestId::accept)
            .unwrap_or_else(RequestId::generate);
        request.extensions_mut().insert(id.clone());
        let future = self.inner.call(request);
        Box::pin(CURRENT.scope(id.clone(), async move {
            let Ok(response) = future.await;
            let mut response = ensure_envelope(response);
            response
                .headers_mut()
                .insert(REQUEST_ID_HEADER, id.header_value().clone());
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
        let accept = |bytes: &[u8]| {
            HeaderValue::from_bytes(bytes)
                .ok()
                .and_then(|v| RequestId::accept(&v))
        };
        assert!(accept(b"abc-123_x.y").is_some());
        assert!(accept(b"").is_none());
        assert!(accept(&[b'a'; 129]).is_none());
        assert!(accept(&[b'a'; 128]).is_some());
        assert!(accept(b"a\tb").is_none());
        assert!(accept(b"a b").is_none());
        assert!(accept("é".as_bytes()).is_none());
    }

    #[test]
    fn generated_ids_are_uuid_v7() {
        let id = RequestId::generate();
        let parsed = uuid::Uuid::parse_str(id.as_str()).map(|u| u.get_version_num());
        assert_eq!(parsed, Ok(7));
    }
}
