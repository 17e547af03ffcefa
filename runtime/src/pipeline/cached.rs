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
//!    `stale_if_error` instead, marked stale (`Age`, `Cache-Status: ..; detail=stale`).
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
    Audience, CacheKey, CachePolicy, Entry, Flight, KEPT_HEADERS, LockOutcome, MAX_ENTRY_BODY,
    ResponseCache, Standing, Versions, now_ms,
};
use crate::error::{ApiError, Enveloped};

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

/// How often a request waiting on another instance looks for the entry.
const POLL: Duration = Duration::from_millis(20);

const CACHE_STATUS: header::HeaderName = header::HeaderName::from_static("cache-status");

/// How an answer came from the cache.
#[derive(Debug, Clone, Copy)]
enum How {
    Hit,
    Stored,
    Collapsed,
    Stale,
}

impl How {
    fn outcome(self) -> &'static str {
        match self {
            How::Hit => "hit",
            How::Stored => "miss",
            How::Collapsed => "collapsed",
            How::Stale => "stale",
        }
    }
}

fn count(name: &'static str, outcome: &'static str) {
    metrics::counter!("rampart_cache_total", "endpoint" => name, "outcome" => outcome).increment(1);
}

/// What the lookup found for a request.
struct Found {
    key: CacheKey,
    anyone: bool,
    versions: Versions,
    /// The best entry there is, and where it stands.
    entry: Option<(Arc<Entry>, Standing)>,
}

impl Cached {
    fn tags(&self) -> &'static [&'static str] {
        self.policy.tags
    }

    /// This endpoint's freshness and stale window, in ms.
    fn limits(&self) -> (u64, u64) {
        (millis(self.policy.ttl), millis(self.policy.stale_if_error))
    }

    /// The key of `request`, and whether it is an anonymous one.
    fn key(&self, request: &Request<Body>) -> (CacheKey, bool) {
        let principal = request.extensions().get::<Principal>();
        let audience = Audience::of(&self.access, self.policy.shared, principal);
        let key = CacheKey::of(self.name, request.uri(), request.headers(), &audience);
        (key, audience.is_anyone())
    }

    /// Reads the versions and the entry of `key`: this instance's entry, or Redis's when
    /// this instance has none that answers.
    async fn find(&self, (key, anyone): (CacheKey, bool)) -> Found {
        let local = self.cache.local(&key);
        let now = now_ms();
        let local_fresh = |versions: &Versions| {
            local
                .as_ref()
                .is_some_and(|entry| entry.standing(versions, now) == Standing::Fresh)
        };
        // The versions alone first when this instance may hold the answer, the versions and
        // Redis's entry together otherwise: one round trip either way.
        let remote_key = self.cache.redis().map(|store| key.entry(store));
        let (versions, remote) = match local {
            Some(_) => {
                let (versions, _) = self.cache.tags().read(self.tags(), None).await;
                if local_fresh(&versions) || remote_key.is_none() {
                    (versions, None)
                } else {
                    self.cache
                        .tags()
                        .read(self.tags(), remote_key.as_deref())
                        .await
                }
            }
            None => {
                self.cache
                    .tags()
                    .read(self.tags(), remote_key.as_deref())
                    .await
            }
        };
        let remote = remote
            .and_then(|bytes| Entry::decode(self.name, bytes, &versions.local, self.limits()))
            .map(Arc::new);
        let standing = |entry: Arc<Entry>| {
            let standing = entry.standing(&versions, now);
            (standing != Standing::Gone).then_some((entry, standing))
        };
        let local = local.and_then(standing);
        let remote = remote.and_then(standing);
        let entry = match (local, remote) {
            (Some(local), _) if local.1 == Standing::Fresh => Some(local),
            (_, Some(remote)) if remote.1 == Standing::Fresh => {
                self.cache.keep_local(&key, remote.0.clone());
                Some(remote)
            }
            // Both stale: the more recent answers under error.
            (Some(local), Some(remote)) => Some(if remote.0.stored_at > local.0.stored_at {
                remote
            } else {
                local
            }),
            (local, remote) => local.or(remote),
        };
        Found {
            key,
            anyone,
            versions,
            entry,
        }
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
    let found = settings.find(settings.key(&request)).await;
    if let Some((entry, Standing::Fresh)) = &found.entry {
        {
            if !entry.refresh_early(now_ms()) {
                return answer(settings.name, entry, How::Hit, found.anyone);
            }
            // Refreshed by this request alone: if another is at it already, this one answers
            // from the entry.
            match settings.cache.flight(&found.key) {
                Flight::Follower(_) => {
                    return answer(settings.name, entry, How::Hit, found.anyone);
                }
                Flight::Leader(leader) => {
                    return compute(settings, inner, request, watch, &found, Some(leader)).await;
                }
            }
        }
    }
    match settings.cache.flight(&found.key) {
        Flight::Follower(mut receiver) => {
            // An error: the leader's answer could not be shared (not a 200, not stored, or it
            // went away), and this request computes its own.
            let shared = receiver
                .wait_for(Option::is_some)
                .await
                .ok()
                .and_then(|shared| shared.clone());
            if let Some(entry) = shared {
                return answer(settings.name, &entry, How::Collapsed, found.anyone);
            }
            compute(settings, inner, request, watch, &found, None).await
        }
        Flight::Leader(leader) => {
            // A leader of this instance may have stored the entry and gone between this
            // request's lookup and its flight.
            if let Some(entry) = settings.cache.local(&found.key)
                && entry.standing(&found.versions, now_ms()) == Standing::Fresh
            {
                leader.finish(entry.clone());
                return answer(settings.name, &entry, How::Collapsed, found.anyone);
            }
            let lock = settings.cache.lock(&found.key, settings.wait).await;
            let token = match lock {
                LockOutcome::Taken(token) => {
                    let held = Unlock(Some((settings.cache.clone(), found.key.clone(), token)));
                    // Another instance may have stored the entry and let go of the lock
                    // between this request's lookup and its lock.
                    if let Some(entry) = fresh_in_redis(settings, &found).await {
                        leader.finish(entry.clone());
                        return answer(settings.name, &entry, How::Collapsed, found.anyone);
                    }
                    Some(held)
                }
                LockOutcome::Unshared => None,
                LockOutcome::Held => {
                    if let Some(entry) = wait_for_other_instance(settings, &found).await {
                        leader.finish(entry.clone());
                        return answer(settings.name, &entry, How::Collapsed, found.anyone);
                    }
                    None
                }
            };
            // Held to the end, and freed when dropped: on the way out, or if this request is
            // cancelled (its timeout, a client gone), so other instances need not wait it out.
            let _lock = token;
            compute(settings, inner, request, watch, &found, Some(leader)).await
        }
    }
}

/// Frees the cross-instance lock when dropped, off the answer's path.
struct Unlock(Option<(ResponseCache, CacheKey, String)>);

impl Drop for Unlock {
    fn drop(&mut self) {
        if let (Some((cache, key, token)), Ok(runtime)) =
            (self.0.take(), tokio::runtime::Handle::try_current())
        {
            runtime.spawn(async move { cache.unlock(&key, &token).await });
        }
    }
}

/// Polls Redis for the entry another instance is computing, until `settings.wait` is over.
async fn wait_for_other_instance(settings: &Cached, found: &Found) -> Option<Arc<Entry>> {
    let deadline = tokio::time::Instant::now() + settings.wait;
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(POLL).await;
        if let Some(entry) = fresh_in_redis(settings, found).await {
            return Some(entry);
        }
    }
    None
}

/// Redis's entry of the key, if it is fresh now (kept in this instance too).
async fn fresh_in_redis(settings: &Cached, found: &Found) -> Option<Arc<Entry>> {
    let store = settings.cache.redis()?;
    let entry_key = found.key.entry(store);
    let (versions, bytes) = settings
        .cache
        .tags()
        .read(settings.tags(), Some(&entry_key))
        .await;
    let entry = Entry::decode(settings.name, bytes?, &versions.local, settings.limits())?;
    if entry.standing(&versions, now_ms()) != Standing::Fresh {
        return None;
    }
    let entry = Arc::new(entry);
    settings.cache.keep_local(&found.key, entry.clone());
    Some(entry)
}

/// Runs the handler for `found.key`, stores what may be stored, answers a 5xx from the stale
/// entry when there is one, and hands a 200 to the requests waiting on `leader`.
async fn compute<S>(
    settings: &Cached,
    inner: S,
    request: Request<Body>,
    watch: Option<BodyWatch>,
    found: &Found,
    leader: Option<crate::cache::Leader>,
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
        if let Some((entry, _)) = &found.entry {
            tracing::warn!(
                status = status.as_u16(),
                "the handler failed: answered from the cache, stale"
            );
            return answer(settings.name, entry, How::Stale, found.anyone);
        }
        count(settings.name, "not_stored");
        return missed(response);
    }
    // Larger than an entry may be (known before reading it): answered as it streams.
    let too_large = http_body::Body::size_hint(response.body())
        .upper()
        .is_some_and(|upper| upper > MAX_ENTRY_BODY as u64);
    if status != StatusCode::OK || !storable(&response) || too_large {
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
        fresh_ms: millis(settings.policy.ttl),
        stale_ms: millis(settings.policy.stale_if_error),
        compute_ms,
        versions: found.versions.clone(),
    });
    // A write that committed while the handler ran may or may not be in this answer: it is
    // answered, but not stored as fresh (the next request computes again).
    let (after, _) = settings.cache.tags().read(settings.tags(), None).await;
    if after == found.versions {
        settings.cache.keep_local(&found.key, entry.clone());
        settings.cache.keep_shared(&found.key, &entry).await;
        if let Some(leader) = leader {
            leader.finish(entry.clone());
        }
        answer(settings.name, &entry, How::Stored, found.anyone)
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
