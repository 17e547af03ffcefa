//! HTTP caching on the way out (part of layer 4, with the security headers): the default
//! `Cache-Control` of a response, and `If-None-Match` answered with 304.
//!
//! - A response that says nothing about caching gets a default: `private, no-cache` when the
//!   request carried credentials or the response sets a cookie (a browser may keep it but must
//!   revalidate it, and no shared cache may store it), `no-cache` otherwise. Credential-bearing
//!   replies (`Sensitive`: tokens, new API keys) set `no-store` themselves, and it is kept.
//! - Every response that may be stored says `Vary: Authorization, X-API-Key` (who asks decides
//!   the answer, on public endpoints too); one that may not be stored (`no-store`, or a
//!   cookie) carries no `ETag`.
//! - Every 200 to a read carries an `ETag` (`response.rs`: a keyed hash of the body, after the
//!   version for a resource). A `GET`/`HEAD` whose `If-None-Match` matches it (weak
//!   comparison, RFC 9110 §13.1.2; `*` matches any; lists across field lines) is answered 304
//!   with the same headers and no body. The handler still ran: the 304 saves the transfer.
//! - A write carrying `If-None-Match` is refused with 412 before anything runs (by the endpoint
//!   stack, so a method the route does not have stays a 405).

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::response::Response;

use crate::auth::API_KEY_HEADER_NAME;
use crate::error::{ApiError, ErrorCode};

/// What every stored response varies with: the credentials, which decide who is answering
/// (a public endpoint answers a caller with a valid token as that caller).
const VARY: HeaderValue = HeaderValue::from_static("Authorization, X-API-Key");

/// What the request said that decides how its response is cached.
#[derive(Debug, Default)]
pub(super) struct Caching {
    credentials: bool,
    /// `If-None-Match` of a read (its field lines joined).
    if_none_match: Option<HeaderValue>,
}

impl Caching {
    pub(super) fn of(request: &Request<Body>) -> Self {
        let headers = request.headers();
        let credentials = headers.contains_key(header::AUTHORIZATION)
            || headers.contains_key(API_KEY_HEADER_NAME);
        let read = matches!(*request.method(), Method::GET | Method::HEAD);
        Self {
            credentials,
            if_none_match: if read { joined(headers) } else { None },
        }
    }

    /// A write carrying `If-None-Match`: the server cannot evaluate it against what the write
    /// targets, and RFC 9110 §13.1.2 forbids performing the method when it is false, so the
    /// write is refused (412) rather than done unconditionally. Checked by the endpoint stack
    /// (first of its steps), so a method the route does not have stays a 405.
    pub(super) fn refusal(request: &Request<Body>) -> Option<ApiError> {
        let read = matches!(*request.method(), Method::GET | Method::HEAD);
        (!read && request.headers().contains_key(header::IF_NONE_MATCH)).then(|| {
            ApiError::new(ErrorCode::PreconditionFailed)
                .with_message("If-None-Match is honoured on reads only; send this write without it (If-Match makes a write conditional)")
        })
    }

    /// Adds the default caching headers and answers a matching `If-None-Match` with 304.
    pub(super) fn apply(&self, mut response: Response) -> Response {
        let headers = response.headers_mut();
        // A cookie is set for one client: never for a shared cache, never revalidated.
        let cookie = headers.contains_key(header::SET_COOKIE);
        if !headers.contains_key(header::CACHE_CONTROL) {
            let policy = if self.credentials || cookie {
                "private, no-cache"
            } else {
                "no-cache"
            };
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
        }
        let unstored = no_store(headers);
        if unstored || cookie {
            // Nothing may revalidate what nothing may store; a cookie's answer is not reused.
            headers.remove(header::ETAG);
        } else if !headers.get_all(header::VARY).iter().any(|vary| {
            // `*`, or the response cache's own list (which names the credentials already).
            vary.as_bytes() == b"*"
                || vary
                    .to_str()
                    .is_ok_and(|vary| vary.contains("Authorization"))
        }) {
            headers.append(header::VARY, VARY);
        }
        match &self.if_none_match {
            Some(condition)
                if response.status() == StatusCode::OK
                    && response
                        .headers()
                        .get(header::ETAG)
                        .is_some_and(|etag| matches(condition, etag)) =>
            {
                not_modified(response)
            }
            _ => response,
        }
    }
}

/// Every `If-None-Match` field line as one list (a list may be split across lines).
fn joined(headers: &HeaderMap) -> Option<HeaderValue> {
    let mut lines = headers.get_all(header::IF_NONE_MATCH).iter();
    let first = lines.next()?;
    let rest: Vec<&HeaderValue> = lines.collect();
    if rest.is_empty() {
        return Some(first.clone());
    }
    let mut all = first.as_bytes().to_vec();
    for line in rest {
        all.extend_from_slice(b", ");
        all.extend_from_slice(line.as_bytes());
    }
    HeaderValue::from_bytes(&all).ok()
}

/// Whether the response says it must not be stored: a `no-store` directive in any
/// `Cache-Control` line (the idempotency records read the same rule).
pub(super) fn no_store(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|directive| directive.trim().eq_ignore_ascii_case("no-store"))
}

/// The opaque part of an entity tag, for the weak comparison `If-None-Match` uses.
fn opaque(tag: &str) -> &str {
    let tag = tag.trim();
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// Whether `condition` (`*` or a list of entity tags) names `etag`.
fn matches(condition: &HeaderValue, etag: &HeaderValue) -> bool {
    let (Ok(condition), Ok(etag)) = (condition.to_str(), etag.to_str()) else {
        return false;
    };
    if condition.trim() == "*" {
        return true;
    }
    let etag = opaque(etag);
    // Our tags hold no comma, so splitting on commas cannot cut one of ours in two; a
    // client's tag that does only fails to match (a 200, never a wrong 304).
    condition.split(',').any(|tag| opaque(tag) == etag)
}

/// The 304 for a 200: the same headers but the representation's own, and no body.
fn not_modified(response: Response) -> Response {
    let (mut parts, _body) = response.into_parts();
    parts.status = StatusCode::NOT_MODIFIED;
    for name in [header::CONTENT_TYPE, header::CONTENT_LENGTH] {
        parts.headers.remove(name);
    }
    Response::from_parts(parts, Body::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &'static str) -> HeaderValue {
        HeaderValue::from_static(text)
    }

    #[test]
    fn if_none_match_compares_weakly_and_accepts_lists_and_any() {
        let etag = value("\"abc\"");
        assert!(matches(&value("\"abc\""), &etag));
        assert!(matches(&value("W/\"abc\""), &etag));
        assert!(matches(&value("\"x\", \"abc\""), &etag));
        assert!(matches(&value("*"), &etag));
        assert!(!matches(&value("\"abcd\""), &etag));
        assert!(
            !matches(&value("abc"), &etag),
            "an unquoted tag is not ours"
        );
        assert!(!matches(&value(""), &etag));
        assert!(matches(&value("\"3\""), &value("W/\"3\"")));
    }
}
