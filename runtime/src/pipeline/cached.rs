//! Layer 10: the response cache of a `cache(..)` GET endpoint, after authorization and the
//! endpoint's rate limit (so a per-caller entry is only ever looked up for its caller, and a
//! cached answer still counts against the limit), before the handler. What an entry is and
//! how it is keyed and invalidated is [`crate::cache`]; this is the step:
//!
//! 1. A fresh entry whose tags are unchanged answers (`Cache-Status: rampart; hit`), from
//!    this instance or from Redis; a matching `If-None-Match` becomes a 304 on the way out
//!    (layer 4), so a revalidation runs nothing.
//! 2. Otherwise one request computes the key and the others wait for its answer: one per
//!    instance (a flight), and with Redis one across instances (a short lock; the others poll
//!    Redis for the entry). A request near an entry's expiry may refresh it early, alone on its instance,
//!    while the rest keep answering from it.
//! 3. The computed 200 is stored only if the tags' versions did not move while it was
//!    computed (a write that committed meanwhile may not be in it), and never when it carries
//!    credentials (`no-store`, `Set-Cookie`) or is over [`MAX_ENTRY_BODY`].
//! 4. A 5xx from the handler (the database is down) is answered from the last entry within
//!    `stale_if_error` instead, marked stale (`Age`, `Cache-Status: ..; detail=stale`); the
//!    requests that waited on it answer the same (the error, or their stale entry) without
//!    running the handler again.
//! 5. A 200 built on a query answered stale (see [`crate::cache`]'s query cache) is answered,
//!    marked stale ([`mark_stale`], at the edge), and not stored.
//!
//! `HEAD` is not cached (its body is removed under this layer; it would store nothing).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tower::{Service, ServiceExt};

use super::body::BodyWatch;
use crate::auth::{Access, Principal};
use crate::cache::{
    Audience, CacheKey, CachePolicy, Entry, Found, How, KEPT_HEADERS, MAX_ENTRY_BODY,
    ResponseCache, Served, Spec, Versions, count, now_ms,
};
use crate::error::{ApiError, Enveloped, SharedError};

/// One cached endpoint's settings, fixed when the router is built.
#[derive(Clone, Debug)]
pub(super) struct Cached {
    pub(super) cache: ResponseCache,
    pub(super) policy: CachePolicy,
    pub(super) name: &'static str,
    pub(super) access: Access,
    /// How long a request waits for another instance computing its key before computing it
    /// itself.
    pub(super) wait: Duration,
}

const CACHE_STATUS: header::HeaderName = header::HeaderName::from_static("cache-status");

impl Cached {
    fn tags(&self) -> &'static [&'static str] {
        self.policy.tags
    }

    fn spec(&self) -> Spec {
        Spec {
            name: self.name,
            tags: self.policy.tags,
            fresh_ms: millis(self.policy.ttl),
            stale_ms: millis(self.policy.stale_if_error),
            wait: self.wait,
        }
    }

    /// The key of `request`, and whether it is an anonymous one.
    fn key(&self, request: &Request<Body>) -> (CacheKey, bool) {
        let principal = request.extensions().get::<Principal>();
        let audience = Audience::of(&self.access, self.policy.shared, principal);
        let key = CacheKey::of(self.name, request.uri(), request.headers(), &audience);
        (key, audience.is_anyone())
    }
}

/// Runs one GET to a cached endpoint.
pub(super) async fn run<S>(
    settings: &Cached,
    inner: S,
    request: Request<Body>,
    watch: Option<BodyWatch>,
) -> Response
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    let spec = settings.spec();
    let (key, anyone) = settings.key(&request);
    let found = settings.cache.find(&spec, key).await;
    let served = settings
        .cache
        .serve(&spec, found, |found, leader| {
            compute(
                settings, &spec, inner, request, watch, found, leader, anyone,
            )
        })
        .await;
    match served {
        Served::Entry(entry, how) => answer(settings.name, &entry, how, anyone),
        Served::Computed(response) => response,
        Served::Failed(error) => {
            count(settings.name, "failed");
            missed(error.to_error().into_response())
        }
    }
}

/// Runs the handler for `found.key`, stores what may be stored, answers a 5xx from the stale
/// entry when there is one, and hands a stored 200 to the requests waiting on `leader`.
#[allow(clippy::too_many_arguments)]
async fn compute<S>(
    settings: &Cached,
    spec: &Spec,
    inner: S,
    request: Request<Body>,
    watch: Option<BodyWatch>,
    found: Found,
    leader: Option<crate::cache::Leader>,
    anyone: bool,
) -> Response
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    let started = std::time::Instant::now();
    // A refill reads the primary: an entry stored under the current tag versions must never
    // hold a lagging replica's rows.
    crate::context::read_primary();
    let response = match inner.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let response = watch
        .as_ref()
        .and_then(BodyWatch::verdict)
        .unwrap_or(response);
    let status = response.status();
    if status.is_server_error() {
        // The requests waiting on this one answer its error (or their stale entry) rather
        // than each running the handler again against what is failing.
        if let Some(leader) = leader {
            leader.fail(SharedError::of_response(&response));
        }
        if let Some((entry, how)) = found.fallback() {
            tracing::warn!(
                status = status.as_u16(),
                stale = how == How::Stale,
                "the handler failed: answered from the cache"
            );
            return answer(settings.name, entry, how, anyone);
        }
        count(settings.name, "not_stored");
        return missed(response);
    }
    // Larger than an entry may be (known before reading it): answered as it streams.
    let too_large = http_body::Body::size_hint(response.body())
        .upper()
        .is_some_and(|upper| upper > MAX_ENTRY_BODY as u64);
    // Built from a query answered stale (the database failed under it): answered, marked
    // stale by the edge, but not kept as this endpoint's fresh entry.
    let built_on_stale = crate::context::stale_age().is_some();
    if status != StatusCode::OK || !storable(&response) || too_large || built_on_stale {
        count(settings.name, "not_stored");
        return missed(response);
    }
    let (parts, body) = response.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            count(settings.name, "not_stored");
            return ApiError::internal("the response body could not be read").into_response();
        }
    };
    let compute_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if body.len() > MAX_ENTRY_BODY {
        count(settings.name, "not_stored");
        return missed(Response::from_parts(parts, Body::from(body)));
    }
    let entry = Arc::new(Entry {
        endpoint: settings.name,
        status,
        headers: KEPT_HEADERS
            .into_iter()
            .filter_map(|name| {
                let value = parts.headers.get(&name)?.clone();
                Some((name, value))
            })
            .collect(),
        body,
        stored_at: now_ms(),
        fresh_ms: spec.fresh_ms,
        stale_ms: spec.stale_ms,
        compute_ms,
        versions: found.versions.clone(),
    });
    if settings.cache.keep(spec, &found, &entry, leader).await {
        answer(settings.name, &entry, How::Stored, anyone)
    } else {
        count(settings.name, "not_stored");
        let mut response = Response::from_parts(parts, Body::from(entry.body.clone()));
        response.extensions_mut().insert(Enveloped);
        missed(response)
    }
}

/// A computed answer that is not stored, marked as such.
fn missed(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CACHE_STATUS, HeaderValue::from_static("rampart; fwd=miss"));
    response
}

/// Marks `response` stale when the request used a cached answer past its freshness (a query
/// answered under `stale_if_error`): `Cache-Status: rampart; fwd=miss; detail=stale` and the
/// stale answer's `Age`, as the endpoint cache marks its own stale answers (which already say
/// so, and are left alone).
pub(super) fn mark_stale(response: &mut Response) {
    let Some(age) = crate::context::stale_age() else {
        return;
    };
    let headers = response.headers_mut();
    let marked = headers
        .get(CACHE_STATUS)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("detail=stale"));
    if marked {
        return;
    }
    headers.insert(
        CACHE_STATUS,
        HeaderValue::from_static("rampart; fwd=miss; detail=stale"),
    );
    headers.insert(header::AGE, HeaderValue::from(age));
}

/// Whether a 200 may be stored: it carries no credentials (`Sensitive` replies say
/// `no-store`; the macro refuses `cache` on them, this is the second line) and sets no cookie.
fn storable(response: &Response) -> bool {
    let headers = response.headers();
    !headers.contains_key(header::SET_COOKIE) && !super::conditional::no_store(headers)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// An entry as this request's answer.
fn answer(name: &'static str, entry: &Entry, how: How, anyone: bool) -> Response {
    count(name, how.outcome());
    let now = now_ms();
    let mut response = (entry.status, Body::from(entry.body.clone())).into_response();
    let headers = response.headers_mut();
    for (name, value) in &entry.headers {
        headers.insert(name.clone(), value.clone());
    }
    headers.insert(header::AGE, HeaderValue::from(entry.age(now)));
    // `Accept` is part of the key: a cache downstream must keep answers apart by it too.
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Accept, Authorization, X-API-Key"),
    );
    let remaining = entry.remaining(now);
    let status = match how {
        How::Hit => format!("rampart; hit; ttl={remaining}"),
        How::Stored => "rampart; fwd=miss; stored".to_owned(),
        How::Collapsed => "rampart; fwd=miss; collapsed".to_owned(),
        How::Stale => "rampart; hit; detail=stale".to_owned(),
    };
    if let Ok(value) = HeaderValue::from_str(&status) {
        headers.insert(CACHE_STATUS, value);
    }
    // Only an anonymous answer of a public endpoint may be kept by a shared cache, for its
    // time to live counted from when it was computed (`Age` says how much of it is gone);
    // every other answer gets the pipeline's default (`private, no-cache`).
    if anyone && !matches!(how, How::Stale) {
        let max_age = entry.fresh_ms / 1000;
        if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
            headers.insert(header::CACHE_CONTROL, value);
        }
    }
    response.extensions_mut().insert(Enveloped);
    response
}

/// The answer to an anonymous GET of a public cached endpoint while the server sheds load:
/// this instance's entry, fresh or within `stale_if_error`, else the shedding's 503. Only the
/// in-process tier and its own counts are read: a shed request costs no round trip.
pub(super) fn while_shedding(settings: &Cached, request: &Request<Body>) -> Response {
    let (key, anyone) = settings.key(request);
    let current = Versions {
        local: settings.cache.tags().local_versions(settings.tags()),
        remote: None,
        degraded: false,
    };
    let now = now_ms();
    let entry = settings.cache.local(&key).and_then(|entry| {
        // Judged on this instance's own writes; whatever Redis knows, a shed answer is
        // marked stale unless this instance's counts say it is current.
        let fresh = entry.versions.local == current.local && now < entry.expires_at();
        (now < entry.last_use()).then_some((entry, fresh))
    });
    match entry {
        Some((entry, true)) => answer(settings.name, &entry, How::Hit, anyone),
        Some((entry, false)) => answer(settings.name, &entry, How::Stale, anyone),
        None => super::guard::shed().into_response(),
    }
}
