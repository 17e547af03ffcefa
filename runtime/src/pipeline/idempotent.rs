//! Layer 11: the idempotency key of an `idempotent` endpoint, after the body guard (the body
//! is hashed, so it must be bounded first) and before extraction. What it promises is in
//! [`crate::idempotency`]; this is the step: read the bounded body, claim the key, then run
//! the handler and keep its answer, or answer from the record.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tower::{Service, ServiceExt};

use super::body::BodyWatch;
use crate::context;
use crate::error::{ApiError, Enveloped, ErrorCode};
use crate::idempotency::{
    self, Claim, Entry, IdempotencyStore, Lease, MAX_STORED_BODY, Outcome, REPLAYED_HEADER,
};

/// One idempotent endpoint's settings, fixed when the router is built.
#[derive(Clone, Debug)]
pub(super) struct Idempotent {
    /// `None`: the app has nowhere to keep records; keyed requests are refused (503).
    pub(super) store: Option<IdempotencyStore>,
    /// How long a completed answer is kept.
    pub(super) ttl: Duration,
    /// How long a claim whose request vanished without a word (a crashed instance) blocks
    /// the key: longer than the request can run.
    pub(super) lease: Duration,
    /// The endpoint, for metrics.
    pub(super) name: &'static str,
}

/// The headers of an answer that describe its body, and so are replayed with it; every other
/// header is the pipeline's to set again (request id, rate limits, security headers).
const KEPT_HEADERS: [HeaderName; 4] = [
    header::CONTENT_TYPE,
    header::LOCATION,
    header::ETAG,
    header::LAST_MODIFIED,
];

/// Releases the claim when the request ends without settling it: its timeout, a panic in
/// the handler, or the client going away drop the future, and the key must not stay blocked.
struct Unsettled(Option<Lease>);

impl Unsettled {
    fn take(&mut self) -> Option<Lease> {
        self.0.take()
    }
}

impl Drop for Unsettled {
    fn drop(&mut self) {
        if let Some(lease) = self.0.take() {
            // In the request's context: the warning names the request.
            crate::task::try_spawn(async move {
                if let Err(error) = lease.release().await {
                    tracing::warn!(error = %error, "could not release an idempotency key");
                }
            });
        }
    }
}

/// Whether an answer must not be kept: it sets a cookie, or says it must not be stored
/// (`Cache-Control: no-store`, which every `Sensitive<T>` reply carries).
fn carries_credentials(response: &Response) -> bool {
    let headers = response.headers();
    headers.contains_key(header::SET_COOKIE) || super::conditional::no_store(headers)
}

fn error_response(error: ApiError) -> Response {
    error.into_response()
}

/// Runs one request that carries `key` on an idempotent endpoint, for the principal `scope`.
pub(super) async fn run<S>(
    settings: &Idempotent,
    inner: S,
    request: Request<Body>,
    key: String,
    scope: String,
    watch: Option<BodyWatch>,
    body_limit: usize,
) -> Response
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    let (parts, body) = request.into_parts();
    // Bounded by the body guard already; the limit again, as a second line.
    let bytes = match axum::body::to_bytes(body, body_limit).await {
        Ok(bytes) => bytes,
        // Too large or too slow: the guard's 413 or 408; else the client broke off.
        Err(_) => {
            return watch
                .as_ref()
                .and_then(BodyWatch::verdict)
                .unwrap_or_else(|| {
                    error_response(ApiError::bad_request("the request body could not be read"))
                });
        }
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path(), |path| path.as_str());
    let fingerprint = idempotency::fingerprint(&parts.method, path, &parts.headers, &bytes);
    let key_hash = idempotency::key_hash(&key);
    let claim = match &settings.store {
        Some(store) => {
            store
                .claim(&scope, &key_hash, &fingerprint, settings.lease)
                .await
        }
        None => Err(ApiError::unavailable(1)
            .with_message("the idempotency records cannot be reached; retry later")),
    };
    let lease = match claim {
        Ok(Claim::Acquired(lease)) => lease,
        Ok(Claim::Held(entry)) => return answer_held(settings, entry, &fingerprint),
        Err(error) => {
            idempotency::count(settings.name, "unavailable");
            return error_response(error);
        }
    };
    let request = Request::from_parts(parts, Body::from(bytes));
    let ttl = settings.ttl;
    let name = settings.name;
    // The handler and the settling run as a task of their own, in this request's context: a
    // client that goes away or the request's timeout must not cancel a handler that may have
    // written already and then free the key, or the client's retry would run it again. The
    // handler runs to its end and its answer is kept for that retry (a retry meanwhile is a
    // 409). Only a panic frees the key (the guard, dropped as the task unwinds).
    let work = async move {
        let mut unsettled = Unsettled(Some(lease));
        let mut response = match inner.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        // This task's context is a copy: a stale answer it used is marked here, not at the
        // edge.
        super::cached::mark_stale(&mut response);
        match unsettled.take() {
            Some(lease) => settle(lease, response, ttl, name).await,
            None => response,
        }
    };
    // In the request's span, not one of its own: the handler is this request's work, and the
    // request's span lasts until it ends even when the client has gone.
    let task = tokio::spawn(crate::task::carried(work));
    match task.await {
        Ok(response) => response,
        // The handler panicked: the edge's panic recovery answers it, as for any endpoint.
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(_) => error_response(ApiError::unavailable(1)),
    }
}

/// Keeps or frees the key for `response`, and returns it.
async fn settle(lease: Lease, response: Response, ttl: Duration, name: &'static str) -> Response {
    let (response, settled) = if response.status().is_server_error() {
        idempotency::count(name, "not_stored");
        (response, lease.release().await)
    } else if carries_credentials(&response) {
        idempotency::count(name, "withheld");
        let status = response.status().as_u16();
        (
            response,
            lease.complete(Outcome::Withheld { status }, ttl).await,
        )
    } else {
        let (outcome, response) = keep(response).await;
        let settled = match outcome {
            Some(outcome) => {
                idempotency::count(
                    name,
                    match outcome {
                        Outcome::Replay { .. } => "stored",
                        Outcome::Withheld { .. } => "withheld",
                    },
                );
                lease.complete(outcome, ttl).await
            }
            // The body failed while read: the client gets a 500, and may retry.
            None => {
                idempotency::count(name, "not_stored");
                lease.release().await
            }
        };
        (response, settled)
    };
    match settled {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!("an idempotency key was taken over before its request settled it")
        }
        Err(error) => {
            tracing::warn!(error = %error, "could not store the outcome of an idempotent request")
        }
    }
    response
}

/// Reads the answer's body (bounded) and what to keep of it; the answer is rebuilt from the
/// bytes, so the client gets exactly what was stored. `None` when the body failed while read
/// (the answer is a 500 now, and nothing is kept).
async fn keep(response: Response) -> (Option<Outcome>, Response) {
    let status = response.status().as_u16();
    let fits = http_body::Body::size_hint(response.body())
        .upper()
        .is_some_and(|upper| upper <= MAX_STORED_BODY as u64);
    if !fits {
        return (Some(Outcome::Withheld { status }), response);
    }
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_STORED_BODY).await {
        Ok(bytes) => bytes,
        Err(error) => return (None, ApiError::internal(error).into_response()),
    };
    let headers = KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = parts.headers.get(name)?.to_str().ok()?;
            Some((name.as_str().to_owned(), value.to_owned()))
        })
        .collect();
    let outcome = Outcome::Replay {
        status,
        headers,
        body: STANDARD.encode(&bytes),
    };
    (
        Some(outcome),
        Response::from_parts(parts, Body::from(bytes)),
    )
}

/// The answer to a request whose key another request holds.
fn answer_held(settings: &Idempotent, entry: Entry, fingerprint: &str) -> Response {
    let name = settings.name;
    if entry.fingerprint != fingerprint {
        idempotency::count(name, "mismatch");
        return error_response(
            ApiError::new(ErrorCode::Unprocessable)
                .with_message("this Idempotency-Key was used with another request; use a new key for a new request")
                .with_detail(idempotency::HEADER, "used with another request"),
        );
    }
    match entry.outcome {
        None => {
            idempotency::count(name, "conflict");
            error_response(
                ApiError::new(ErrorCode::Conflict)
                    .with_message(
                        "a request with this Idempotency-Key is still running; retry once it has finished",
                    )
                    .with_detail(idempotency::HEADER, "still running")
                    .with_header(header::RETRY_AFTER, HeaderValue::from_static("1")),
            )
        }
        Some(Outcome::Withheld { status }) => {
            idempotency::count(name, "withheld");
            error_response(
                ApiError::new(ErrorCode::Conflict)
                    .with_message(format!(
                        "a request with this Idempotency-Key already completed ({status}); its response is not kept (it carried credentials or was too large)"
                    ))
                    .with_detail(idempotency::HEADER, "completed, response not kept"),
            )
        }
        Some(Outcome::Replay {
            status,
            headers,
            body,
        }) => match replay(status, &headers, &body) {
            Some(response) => {
                idempotency::count(name, "replayed");
                response
            }
            None => error_response(ApiError::internal("an idempotency record does not parse")),
        },
    }
}

/// The stored answer, as this request's: an error envelope names this request's id, not the
/// first one's; the pipeline adds this request's headers around it.
fn replay(status: u16, headers: &[(String, String)], body: &str) -> Option<Response> {
    let status = StatusCode::from_u16(status).ok()?;
    let mut bytes = Bytes::from(STANDARD.decode(body).ok()?);
    if status.is_client_error()
        && let Some(id) = context::request_id()
        && let Some(spliced) = with_request_id(&bytes, id.as_str())
    {
        bytes = spliced;
    }
    let mut response = (status, bytes).into_response();
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
        let value = HeaderValue::from_str(value).ok()?;
        response.headers_mut().insert(name, value);
    }
    response
        .headers_mut()
        .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    // The body is the envelope the first answer was; the edge's safety net leaves it alone,
    // and the access log counts its code.
    response.extensions_mut().insert(Enveloped);
    if status.is_client_error() {
        response
            .extensions_mut()
            .insert(ErrorCode::for_status(status));
    }
    Some(response)
}

/// The error envelope `bytes` with its `request_id` value replaced by `id`, byte for byte
/// otherwise (no re-serialization: key order, numbers and text stay exactly as stored).
/// The id is the envelope's last field, and the pattern cannot occur inside a string value
/// (a quote there is escaped); request ids are `[A-Za-z0-9._-]`, which need no escaping.
fn with_request_id(bytes: &[u8], id: &str) -> Option<Bytes> {
    const FIELD: &[u8] = b"\"request_id\":\"";
    let start = bytes
        .windows(FIELD.len())
        .rposition(|window| window == FIELD)?
        + FIELD.len();
    let end = start + bytes[start..].iter().position(|&byte| byte == b'"')?;
    let mut spliced = Vec::with_capacity(bytes.len() - (end - start) + id.len());
    spliced.extend_from_slice(&bytes[..start]);
    spliced.extend_from_slice(id.as_bytes());
    spliced.extend_from_slice(&bytes[end..]);
    Some(Bytes::from(spliced))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_id_is_spliced_in_and_nothing_else_moves() {
        let stored = br#"{"data":null,"error":{"code":"BAD_REQUEST","message":"a \"request_id\":\"x\" in text","details":[{"field":"n","issue":"1e400"}],"request_id":"old-id"}}"#;
        let spliced = with_request_id(stored, "new.id_2");
        let expected = br#"{"data":null,"error":{"code":"BAD_REQUEST","message":"a \"request_id\":\"x\" in text","details":[{"field":"n","issue":"1e400"}],"request_id":"new.id_2"}}"#;
        assert_eq!(spliced.as_deref(), Some(&expected[..]));
        assert!(with_request_id(br#"{"error":{"request_id":null}}"#, "x").is_none());
    }

    #[test]
    fn credentials_are_recognised_by_header() {
        let mut response = StatusCode::OK.into_response();
        assert!(!carries_credentials(&response));
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, No-Store"),
        );
        assert!(carries_credentials(&response));
        let mut cookie = StatusCode::OK.into_response();
        cookie
            .headers_mut()
            .insert(header::SET_COOKIE, HeaderValue::from_static("a=b"));
        assert!(carries_credentials(&cookie));
    }

    #[test]
    fn a_replay_keeps_status_headers_and_body() {
        let body = STANDARD.encode(br#"{"data":{"id":1},"error":null}"#);
        let headers = vec![("location".to_owned(), "/a/1".to_owned())];
        let response = replay(201, &headers, &body);
        assert_eq!(
            response.as_ref().map(|r| r.status()),
            Some(StatusCode::CREATED)
        );
        assert_eq!(
            response
                .as_ref()
                .and_then(|r| r.headers().get(REPLAYED_HEADER)),
            Some(&HeaderValue::from_static("true"))
        );
        assert_eq!(
            response.as_ref().and_then(|r| r.headers().get("location")),
            Some(&HeaderValue::from_static("/a/1"))
        );
    }
}
