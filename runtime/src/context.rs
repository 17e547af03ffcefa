//! The request context: what every part of a request reads about the request it is in.
//!
//! One task-local per request, made current by the pipeline's edge service for
//! the whole of the request's handling: its id, the client IP (computed once, at the edge),
//! the method and route template, the user once authentication knows them, and room for a
//! trace and span id. Log lines (`observability`), error envelopes (`error`) and the panic
//! hook read it from here instead of from a `tracing` span or request extensions.
//!
//! A leaf on purpose: this module imports nothing from the crate but the leaf `trace` (the W3C
//! trace context it holds), so everything may read it without forming a cycle.

use std::cell::Cell;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::MatchedPath;
use axum::http::{HeaderName, HeaderValue};
use uuid::Uuid;

use crate::trace::TraceContext;

/// The `X-Request-ID` header.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being handled, held by the request context (read it with
/// [`request_id`] or `Ctx`).
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
        let mut buffer = [0u8; uuid::fmt::Hyphenated::LENGTH];
        uuid.hyphenated().encode_lower(&mut buffer);
        // Owned bytes: one allocation, and every later clone (context, response header) only
        // counts a reference, where a copied slice would be promoted on its first clone.
        let bytes = bytes::Bytes::from_owner(buffer);
        Self(HeaderValue::from_maybe_shared(bytes).unwrap_or(HeaderValue::from_static("invalid")))
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
    static RANDOM: Cell<u64> = Cell::new(seed());
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

/// xorshift64*: fast, non-cryptographic, per thread (request ids, span ids: unique, not
/// secret).
pub fn next_random() -> u64 {
    RANDOM.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

/// What a request's code may know about the request it runs in.
#[derive(Debug)]
pub struct RequestContext {
    request_id: RequestId,
    client_ip: Option<IpAddr>,
    method: &'static str,
    route: Option<MatchedPath>,
    user_id: Cell<Option<Uuid>>,
    /// The user, shared with the `request` span of a router over SQLite (whose statements are
    /// logged on a worker thread that reads the span, not this context); `None` elsewhere, so
    /// no other request pays for the allocation.
    shared_user: Option<Arc<SharedUser>>,
    /// Every read of this request goes to the primary (a cache refill; see [`read_primary`]).
    primary_reads: Cell<bool>,
    /// Whether this request's user wrote within the read-your-writes window, once known (the
    /// database layer asks Redis at most once per request and keeps the answer here).
    recent_write: Cell<Option<bool>>,
    /// The age, in seconds, of the oldest cached answer this request used past its freshness
    /// (a query answered under `stale_if_error` because the database failed): its response
    /// is marked stale (`Cache-Status: ..; detail=stale`, `Age`) and never stored as fresh.
    stale_age: Cell<Option<u64>>,
    /// The trace this request belongs to and its span: set once, by the edge (when spans are
    /// exported, after its span exists, since the exporter gives the ids).
    trace: std::cell::OnceCell<TraceContext>,
    validator_seed: u64,
}

impl RequestContext {
    /// The context of a request: its id, client IP, method label and matched route.
    pub fn new(
        request_id: RequestId,
        client_ip: Option<IpAddr>,
        method: &'static str,
        route: Option<MatchedPath>,
    ) -> Self {
        Self {
            request_id,
            client_ip,
            method,
            route,
            user_id: Cell::new(None),
            shared_user: None,
            primary_reads: Cell::new(false),
            recent_write: Cell::new(None),
            stale_age: Cell::new(None),
            trace: std::cell::OnceCell::new(),
            validator_seed: 0,
        }
    }

    /// The same context with the key of its responses' `ETag`s (derived from the configured
    /// cursor secret by the router: the same on every instance, unknown to clients).
    pub fn with_validator_seed(mut self, seed: u64) -> Self {
        self.validator_seed = seed;
        self
    }

    /// The same context, its user also kept in a [`SharedUser`] that other threads can read
    /// (see [`RequestContext::shared_user`]).
    pub fn with_shared_user(mut self) -> Self {
        self.shared_user = Some(Arc::default());
        self
    }

    /// The user cell shared with other threads, when the context has one.
    pub fn shared_user(&self) -> Option<&Arc<SharedUser>> {
        self.shared_user.as_ref()
    }

    /// The same context, in the trace `trace` (the edge sets the request's span).
    pub fn with_trace(self, trace: TraceContext) -> Self {
        self.set_trace(trace);
        self
    }

    /// Sets the trace, unless it is set already.
    pub fn set_trace(&self, trace: TraceContext) {
        let _ = self.trace.set(trace);
    }

    /// The same context, for another scope of the same request (shares the id's bytes).
    pub fn carry(&self) -> Self {
        Self {
            request_id: self.request_id.clone(),
            client_ip: self.client_ip,
            method: self.method,
            route: self.route.clone(),
            user_id: Cell::new(self.user_id.get()),
            shared_user: self.shared_user.clone(),
            primary_reads: Cell::new(self.primary_reads.get()),
            recent_write: Cell::new(self.recent_write.get()),
            stale_age: Cell::new(self.stale_age.get()),
            trace: self.trace.clone(),
            validator_seed: self.validator_seed,
        }
    }

    /// The request id.
    pub fn request_id(&self) -> &RequestId {
        &self.request_id
    }

    /// The client IP, computed once per request (`None` without a peer address).
    pub fn client_ip(&self) -> Option<IpAddr> {
        self.client_ip
    }

    /// The method as a bounded label (`GET`, ..., `OTHER`).
    pub fn method(&self) -> &'static str {
        self.method
    }

    /// The matched route template (`None` when no route matched).
    pub fn route(&self) -> Option<&str> {
        self.route.as_ref().map(MatchedPath::as_str)
    }

    /// The matched route, as axum put it on the request.
    pub fn matched_path(&self) -> Option<&MatchedPath> {
        self.route.as_ref()
    }

    /// The authenticated user, once authentication knows it.
    pub fn user_id(&self) -> Option<Uuid> {
        self.user_id.get()
    }

    /// Records the authenticated user.
    pub fn set_user_id(&self, user: Uuid) {
        self.user_id.set(Some(user));
        if let Some(shared) = &self.shared_user {
            shared.set(user);
        }
    }

    /// Whether every read of this request must go to the primary.
    pub fn primary_reads(&self) -> bool {
        self.primary_reads.get()
    }

    /// Makes every later read of this request go to the primary (never to a replica).
    pub fn set_primary_reads(&self) {
        self.primary_reads.set(true);
    }

    /// Whether the request's user wrote within the read-your-writes window: `None` until the
    /// database layer has found out (it asks at most once per request).
    pub fn recent_write(&self) -> Option<bool> {
        self.recent_write.get()
    }

    /// Records whether the request's user wrote within the read-your-writes window.
    pub fn set_recent_write(&self, recent: bool) {
        self.recent_write.set(Some(recent));
    }

    /// The age in seconds of the oldest stale cached answer this request used, if it used one.
    pub fn stale_age(&self) -> Option<u64> {
        self.stale_age.get()
    }

    /// Records that this request used a cached answer `age` seconds old, past its freshness.
    pub fn set_stale(&self, age: u64) {
        let oldest = self.stale_age.get().map_or(age, |seen| seen.max(age));
        self.stale_age.set(Some(oldest));
    }

    /// The trace this request belongs to and the span that handles it.
    pub fn trace(&self) -> Option<&TraceContext> {
        self.trace.get()
    }

    /// The key of this request's `ETag`s.
    pub fn validator_seed(&self) -> u64 {
        self.validator_seed
    }
}

/// A request's user, readable from another thread: what a `request` span holds for the lines
/// logged on the SQLite worker thread, which cannot see the task's context.
#[derive(Debug, Default)]
pub struct SharedUser(Mutex<Option<Uuid>>);

impl SharedUser {
    /// The user, once authentication knows it.
    pub fn get(&self) -> Option<Uuid> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set(&self, user: Uuid) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(user);
    }
}

tokio::task_local! {
    static CURRENT: RequestContext;
}

tokio::task_local! {
    static JOB_ORIGIN: JobOrigin;
}

/// What a running job carries of the request that enqueued it: the request id and the trace
/// (a span of the job, child of the enqueuing request's). Outgoing work of the job (an HTTP
/// call, a follow-up job) names them as a request would ([`origin_request_id`],
/// [`origin_trace`]); nothing else reads it, so a job is never mistaken for a request.
#[derive(Clone, Debug, Default)]
pub struct JobOrigin {
    /// The enqueuing request's id.
    pub request_id: Option<RequestId>,
    /// The job's span, in the enqueuing request's trace.
    pub trace: Option<TraceContext>,
}

/// Runs a job's `future` with `origin` as its origin (the worker does this for every job).
pub fn job_scope<F: Future>(
    origin: JobOrigin,
    future: F,
) -> tokio::task::futures::TaskLocalFuture<JobOrigin, F> {
    JOB_ORIGIN.scope(origin, future)
}

/// The request id outgoing work names: the current request's, else the one that enqueued the
/// running job.
pub fn origin_request_id() -> Option<RequestId> {
    request_id().or_else(|| {
        JOB_ORIGIN
            .try_with(|origin| origin.request_id.clone())
            .ok()
            .flatten()
    })
}

/// Runs `f` with the running job's origin, when the calling task runs a job (its log lines
/// name the enqueuing request's id and the job's trace).
pub fn with_job_origin<R>(f: impl FnOnce(&JobOrigin) -> R) -> Option<R> {
    JOB_ORIGIN.try_with(f).ok()
}

/// The trace outgoing work continues: the current request's span, else the running job's.
pub fn origin_trace() -> Option<TraceContext> {
    trace().or_else(|| {
        JOB_ORIGIN
            .try_with(|origin| origin.trace.clone())
            .ok()
            .flatten()
    })
}

/// Runs `f` with `context` current, and hands the context back with `f`'s result (the edge
/// service makes the context current for the synchronous `call` of the services below it).
pub fn sync_scope<R>(context: RequestContext, f: impl FnOnce() -> R) -> (R, RequestContext) {
    CURRENT.sync_scope(context, || {
        let result = f();
        let context = CURRENT.with(RequestContext::carry);
        (result, context)
    })
}

/// Runs `future` with `context` current (the edge service does this for every request).
pub fn scope<F: Future>(
    context: RequestContext,
    future: F,
) -> tokio::task::futures::TaskLocalFuture<RequestContext, F> {
    CURRENT.scope(context, future)
}

/// Calls `f` with the current request's context; `None` outside a request.
pub fn with<R>(f: impl FnOnce(&RequestContext) -> R) -> Option<R> {
    CURRENT.try_with(f).ok()
}

/// The id of the request the calling task is handling, if any.
pub fn request_id() -> Option<RequestId> {
    CURRENT.try_with(|context| context.request_id.clone()).ok()
}

/// The trace context of the request the calling task is handling, if any: what an outgoing
/// call sends as its parent (`traceparent`).
pub fn trace() -> Option<TraceContext> {
    CURRENT
        .try_with(|context| context.trace.get().cloned())
        .ok()
        .flatten()
}

/// Whether the calling code runs inside a request.
pub fn in_request() -> bool {
    CURRENT.try_with(|_| ()).is_ok()
}

/// Records the authenticated user on the current request, if any.
pub fn set_user_id(user: Uuid) {
    let _ = CURRENT.try_with(|context| context.set_user_id(user));
}

/// Makes every later read of the current request go to the primary, never to a read replica
/// (the response cache does this before a refill: an entry stored under the current tag
/// versions must not hold a lagging replica's rows). Nothing outside a request.
pub fn read_primary() {
    let _ = CURRENT.try_with(RequestContext::set_primary_reads);
}

/// Records on the current request that it used a cached answer `age` seconds old, past its
/// freshness (nothing outside a request).
pub fn used_stale(age: u64) {
    let _ = CURRENT.try_with(|context| context.set_stale(age));
}

/// The age in seconds of the oldest stale cached answer the current request used, if any.
pub fn stale_age() -> Option<u64> {
    CURRENT.try_with(RequestContext::stale_age).ok().flatten()
}

/// The client IP of the current request (`None` outside a request or without a peer).
pub fn client_ip() -> Option<IpAddr> {
    CURRENT.try_with(|context| context.client_ip).ok().flatten()
}

/// What a router shares with every request (the database, the identity service, the app, ...),
/// built once by `Api::into_router` and put on each request as this one extension, rather than
/// one extension per value (each insert is an allocation and a map entry on every request).
/// Readers go through [`shared`].
#[derive(Clone, Debug, Default)]
pub struct Shared(std::sync::Arc<axum::http::Extensions>);

impl Shared {
    /// The shared values.
    pub fn new(values: axum::http::Extensions) -> Self {
        Self(std::sync::Arc::new(values))
    }
}

/// `T` for this request: the request's own extension when it has one (a test or a plain axum
/// layer can still provide it directly), else the router's [`Shared`] value.
pub fn shared<T: Send + Sync + 'static>(extensions: &axum::http::Extensions) -> Option<&T> {
    extensions.get::<T>().or_else(|| {
        extensions
            .get::<Shared>()
            .and_then(|shared| shared.0.get::<T>())
    })
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
