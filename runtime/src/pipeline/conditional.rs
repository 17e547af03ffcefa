//! HTTP caching on the way out (part of layer 4, with the security headers): the default
//! `Cache-Control` of a response, and `If-None-Match` answered with 304.
//!
//! - A response that says nothing about caching gets a default: `private, no-cache` when the
//!   request carried credentials (a browser may keep the user's data but must revalidate it,
//!   and no shared cache may store it; `Vary` names the credential headers), `no-cache` for a
//!   read without credentials. Credential-bearing replies (`Sensitive`: tokens, new API keys)
//!   set `no-store` themselves, and it is kept.
//! - Every 200 to a read carries an `ETag` (`response.rs`: a hash of the body, or a
//!   resource's version). A `GET`/`HEAD` whose `If-None-Match` matches it (weak comparison,
//!   RFC 9110 13.1.2; `*` matches any) is answered 304 with the same headers and no body.
//!   The handler still ran; an endpoint cache answers before it (issue 12, not built yet).

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::response::Response;

use crate::auth::API_KEY_HEADER_NAME;

/// What the request said that decides how its response is cached.
#[derive(Debug, Default)]
pub(super) struct Caching {
    credentials: bool,
    /// `If-None-Match` of a read.
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
            if_none_match: read
                .then(|| headers.get(header::IF_NONE_MATCH).cloned())
                .flatten(),
        }
    }

    /// Adds the default caching headers and answers a matching `If-None-Match` with 304.
    pub(super) fn apply(&self, mut response: Response) -> Response {
        let headers = response.headers_mut();
        if !headers.contains_key(header::CACHE_CONTROL) {
            if self.credentials {
                headers.insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("private, no-cache"),
                );
                headers.append(
                    header::VARY,
                    HeaderValue::from_static("Authorization, X-API-Key"),
                );
            } else if headers.contains_key(header::ETAG) {
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            }
        }
        match &self.if_none_match {
            Some(condition)
                if response.status() == StatusCode::OK
                    && !no_store(response.headers())
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

fn no_store(headers: &HeaderMap) -> bool {
    headers
        .get(header::CACHE_CONTROL)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("no-store"))
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
