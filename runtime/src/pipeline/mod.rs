//! The request pipeline, in one place. This list is the one statement of its order, outermost
//! first (asserted pair by pair by `pipeline::the_whole_pipeline_order` in
//! `tests/api/pipeline.rs`, except the per-endpoint timeout's place before authentication: a
//! stalled API-key lookup answers the timeout's 503, which no test asserts yet).
//!
//! Global, around every route (one `Router::layer`):
//!
//! 1. request id (and the envelope safety net) — `edge.rs`
//! 2. access log and metrics — `edge.rs`
//! 3. panic recovery — `edge.rs`
//! 4. CORS (`cors.rs`), security headers and HTTP caching (default `Cache-Control`,
//!    `If-None-Match` → 304: `conditional.rs`), `Host` validation (an HTTP/1.1 request
//!    without exactly one valid `Host` is a 400) — `guard.rs`
//! 5. load shedding, then the coarse per-IP limit; neither counts the health endpoints
//!    ([`HEALTH_PATHS`]) — `guard.rs`
//!
//! Then per endpoint (one `route_layer`, so that a method the path does not have is a 405 for
//! everyone, before authentication, and an unknown path stays a 404 rather than a 401) —
//! `endpoint.rs`:
//!
//! 6. timeout (it covers the whole request, body included); a write carrying
//!    `If-None-Match` is refused here with 412 (`conditional.rs`)
//! 7. authentication + authorization (`authenticate.rs`)
//! 8. in-flight cap per principal (per client IP when anonymous; not on the health endpoints)
//!    (`in_flight.rs`)
//! 9. the endpoint's rate limit, when declared: after authorization, so it counts
//!    authenticated users by id, and before the body guard, so it never reads a body first
//!    (`limit.rs`)
//! 10. the response cache, on a `cache(..)` GET: after authorization, so a per-caller entry
//!     is only looked up for its caller, and after the rate limit, so a cached answer still
//!     counts; a fresh entry answers here (and a matching `If-None-Match` becomes a 304 in
//!     layer 4 on the way out), concurrent misses wait for one computation, a 5xx is
//!     answered from the last good entry within `stale_if_error` (`cached.rs`). A GET whose
//!     declared `Content-Length` is over the body limit is refused (413) before it. A write
//!     that `invalidates` tags bumps them after its 2xx or 5xx, before the answer leaves.
//! 11. body guard: declared `Content-Length`, body limit, body deadline (`body.rs`)
//! 12. the idempotency key, on an `idempotent` endpoint: after the body guard, because the
//!     body is hashed and must be bounded first; a replay answers here (`idempotent.rs`)
//! 13. the handler.
//!
//! Load shedding (5) refuses with 503, except an anonymous GET when some public endpoint
//! has a cache: that request goes on, uncounted and unthrottled, marked shed, and layer 6
//! answers it from the public endpoint's entry in this instance (fresh or within
//! `stale_if_error`; no Redis round trip) or refuses
//! it as the shedding would have, before anything else runs.
//!
//! Layers 1–3 are one service with a hand-written future ([`EdgeLayer`]); 4 (after CORS) and
//! 5 are another ([`GuardLayer`]); 6–12 a third ([`EndpointLayer`]). The edge makes the
//! request context current ([`crate::context`]): the request id, the client IP (computed once
//! there), method, route and user, read by every log line and error envelope.
//!
//! Below the pipeline, the server bounds connections: header read and
//! keep-alive timeouts, and a cap on open connections.

mod authenticate;
mod body;
mod cached;
mod conditional;
mod cors;
mod edge;
mod endpoint;
mod guard;
mod host;
mod idempotent;
mod in_flight;
mod limit;
mod timeout;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};
use tower_http::cors::CorsLayer;

use crate::auth::{Access, ApiKeyVerifier, JwtKeys};
use crate::cache::{CachePolicy, ResponseCache};
use crate::idempotency::IdempotencyStore;
use crate::rate_limit::{RateLimitSpec, RedisStore, Throttle};

pub use cors::{CorsConfig, cors_layer};
pub use edge::{EdgeFuture, EdgeLayer, EdgeService};
pub use endpoint::{EndpointFuture, EndpointLayer, EndpointService};
pub use guard::{GuardFuture, GuardLayer, GuardService, StateInserter};
pub use in_flight::InFlight;
pub use timeout::after;

/// The health endpoints: outside load shedding, the per-IP limit and the per-principal
/// in-flight cap. The one exempt list.
pub const HEALTH_PATHS: [&str; 2] = ["/health/live", "/health/ready"];

/// Whether a path is exempt from shedding and throttling.
pub(crate) fn is_exempt(path: &str) -> bool {
    HEALTH_PATHS.contains(&path)
}

/// What every endpoint stack of a router shares.
#[derive(Clone)]
pub struct Shared {
    /// JWT verification.
    pub keys: Arc<JwtKeys>,
    /// API key verification; `None` without a database (a key is then a 500).
    pub api_keys: Option<Arc<dyn ApiKeyVerifier>>,
    /// The per-principal in-flight table.
    pub in_flight: InFlight,
    /// Where rate limits keep their state when shared between instances.
    pub redis: Option<RedisStore>,
    /// Where idempotency records live (`None`: the app has neither Redis nor a database, and
    /// keyed requests to idempotent endpoints are refused as if the store were down).
    pub idempotency: Option<IdempotencyStore>,
    /// The response cache of `cache(..)` endpoints, and the tag versions writes bump.
    pub cache: ResponseCache,
}

/// One endpoint's declared (or default) options.
#[derive(Clone)]
pub struct EndpointSpec {
    /// The endpoint's name, for its rate limit's metrics and Redis keys.
    pub name: &'static str,
    /// Who may call it.
    pub access: Access,
    /// Whether it is a health endpoint (never capped in flight).
    pub health: bool,
    /// Its rate limit, already scaled for the deployment.
    pub rate_limit: Option<RateLimitSpec>,
    /// Largest body.
    pub body_limit: usize,
    /// Deadline for the whole body.
    pub body_timeout: Duration,
    /// Timeout of the whole request.
    pub timeout: Duration,
    /// State only this endpoint reads, put on its requests (the readiness probe cache), so
    /// that every other request's extension map stays smaller.
    pub state: Option<StateInserter>,
    /// How long an idempotent endpoint keeps a completed answer; `None`: not idempotent.
    pub idempotency_ttl: Option<Duration>,
    /// `cache(..)` on a GET; `None`: not cached.
    pub cache: Option<CachePolicy>,
    /// Tags a 2xx answer makes stale.
    pub invalidates: &'static [&'static str],
}

/// The per-endpoint stack of one endpoint, as the layer to `route_layer` its handler with:
/// the same for `#[endpoint]`s and for merged routes. `None` when its rate limit forms no
/// quota.
pub fn endpoint_stack(spec: EndpointSpec, shared: &Shared) -> Option<EndpointStack> {
    let limit = match spec.rate_limit {
        Some(rate) => Some(limit::EndpointLimit::new(
            rate,
            spec.name,
            shared.redis.clone(),
        )?),
        None => None,
    };
    let idempotent = match spec.idempotency_ttl {
        Some(ttl) => Some(idempotent::Idempotent {
            store: shared.idempotency.clone(),
            ttl,
            // Longer than the request can run: only a claim whose instance died outlives it.
            lease: spec.timeout.saturating_add(Duration::from_secs(30)),
            name: spec.name,
        }),
        None => None,
    };
    let cached = spec.cache.map(|policy| cached::Cached {
        cache: shared.cache.clone(),
        policy,
        name: spec.name,
        access: spec.access,
        // Long enough for another instance to compute the entry, short enough to leave this
        // request time to compute it itself.
        wait: (spec.timeout / 2).min(Duration::from_secs(5)),
    });
    let invalidates =
        (!spec.invalidates.is_empty()).then(|| (spec.invalidates, shared.cache.tags().clone()));
    let options = endpoint::EndpointOptions {
        access: spec.access,
        keys: shared.keys.clone(),
        api_keys: shared.api_keys.clone(),
        in_flight: (!spec.health).then(|| shared.in_flight.clone()),
        limit,
        body_limit: spec.body_limit,
        body_timeout: spec.body_timeout,
        timeout: spec.timeout,
        state: spec.state,
        idempotent,
        cached,
        invalidates,
    };
    Some(
        ServiceBuilder::new()
            .layer(EndpointLayer::new(options))
            .layer(DefaultBodyLimit::max(spec.body_limit))
            .into_inner(),
    )
}

/// The layer [`endpoint_stack`] returns.
pub type EndpointStack = Stack<DefaultBodyLimit, Stack<EndpointLayer, Identity>>;

/// The layer [`global_stack`] returns.
pub type GlobalStack =
    Stack<GuardLayer, Stack<tower::util::Either<CorsLayer, Identity>, Stack<EdgeLayer, Identity>>>;

/// The global layers around every route, as the one layer to `Router::layer` with.
pub fn global_stack(
    edge: EdgeLayer,
    cors: Option<CorsLayer>,
    max_concurrency: usize,
    ip_throttle: Option<Throttle>,
    state: StateInserter,
    stale_on_shed: bool,
) -> GlobalStack {
    ServiceBuilder::new()
        .layer(edge)
        .option_layer(cors)
        .layer(GuardLayer::new(
            max_concurrency,
            ip_throttle,
            state,
            stale_on_shed,
        ))
        .into_inner()
}
