//! The one GCRA mechanism behind every limit: a named, keyed throttle whose state lives in
//! memory (governor) or in Redis (`redis.rs`). Endpoint limits (`RateLimitLayer`), login
//! attempts per (account, client IP) and the coarse per-IP limit before authentication all
//! decide through it.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, Request, header};
use axum::response::{IntoResponse, Response};
use governor::RateLimiter;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;
use ipnet::IpNet;
use tower::{Layer, Service};

use super::redis::Decision;
use super::{RateLimitSpec, RedisStore, ceil_seconds, client_ip};
use crate::error::{ApiError, ErrorCode};

/// Sweep idle keys once every this many checks (amortised; no background task needed).
const SWEEP_EVERY: u64 = 4096;

type Limiter =
    RateLimiter<String, DashMapStateStore<String>, DefaultClock, StateInformationMiddleware>;

enum Backend {
    Memory(Limiter),
    Redis(RedisStore),
}

struct Inner {
    name: &'static str,
    spec: RateLimitSpec,
    backend: Backend,
    checks: AtomicU64,
}

/// A named, keyed limit.
#[derive(Clone)]
pub struct Throttle {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("name", &self.inner.name)
            .field("spec", &self.inner.spec)
            .finish()
    }
}

/// A decision: known at once (memory), or after a Redis round trip. `None` from a pending
/// check means Redis could not answer and the request is admitted (fail open, `redis.rs`).
pub(crate) enum Verdict {
    Now(Decision),
    Later(Pin<Box<dyn Future<Output = Option<Decision>> + Send>>),
}

impl Throttle {
    /// A throttle named `name` (used in Redis keys and metrics). `None` if `spec` forms no quota.
    pub fn new(name: &'static str, spec: RateLimitSpec, redis: Option<RedisStore>) -> Option<Self> {
        let quota = spec.quota()?;
        let backend = match redis {
            Some(store) => Backend::Redis(store),
            None => Backend::Memory(
                RateLimiter::dashmap(quota).with_middleware::<StateInformationMiddleware>(),
            ),
        };
        Some(Self {
            inner: Arc::new(Inner {
                name,
                spec,
                backend,
                checks: AtomicU64::new(0),
            }),
        })
    }

    /// The limit this throttle enforces.
    pub fn spec(&self) -> RateLimitSpec {
        self.inner.spec
    }

    /// Counts one request for `key` and decides.
    pub(crate) fn decide(&self, key: &str) -> Verdict {
        let inner = &self.inner;
        match &inner.backend {
            Backend::Memory(limiter) => {
                if inner.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
                    limiter.retain_recent();
                    limiter.shrink_to_fit();
                }
                let decision = match limiter.check_key(&key.to_owned()) {
                    Ok(snapshot) => {
                        let remaining = snapshot.remaining_burst_capacity();
                        let used = inner.spec.burst.saturating_sub(remaining);
                        let reset = inner.spec.interval().saturating_mul(used);
                        Decision {
                            allowed: true,
                            remaining,
                            retry_after: Duration::ZERO,
                            reset,
                        }
                    }
                    Err(not_until) => {
                        let wait = not_until.wait_time_from(limiter.clock().now());
                        Decision {
                            allowed: false,
                            remaining: 0,
                            retry_after: wait,
                            reset: wait,
                        }
                    }
                };
                Verdict::Now(decision)
            }
            Backend::Redis(store) => {
                let store = store.clone();
                let bucket = store.key(inner.name, key);
                let (interval, burst) = (inner.spec.interval(), inner.spec.burst);
                Verdict::Later(Box::pin(async move {
                    store.check(&bucket, interval, burst).await
                }))
            }
        }
    }

    /// Counts one attempt for `key`: `Err(429 RATE_LIMITED + Retry-After)` when over the limit.
    pub async fn check(&self, key: &str) -> Result<(), ApiError> {
        let decision = match self.decide(key) {
            Verdict::Now(decision) => Some(decision),
            Verdict::Later(pending) => pending.await,
        };
        match decision {
            Some(decision) if !decision.allowed => {
                metrics::counter!("throttled_total", "throttle" => self.inner.name).increment(1);
                let seconds = ceil_seconds(decision.retry_after).max(1);
                Err(ApiError::new(ErrorCode::RateLimited)
                    .with_header(header::RETRY_AFTER, HeaderValue::from(seconds)))
            }
            _ => Ok(()),
        }
    }
}

/// Layer 5b: the coarse per-client-IP limit, before authentication (so unauthenticated floods
/// are cut before any token is verified or any key looked up).
#[derive(Clone, Debug)]
pub struct IpThrottleLayer {
    throttle: Throttle,
    trusted_proxies: Arc<[IpNet]>,
    exempt: Arc<[String]>,
}

impl IpThrottleLayer {
    /// A per-IP limit.
    pub fn new(throttle: Throttle, trusted_proxies: Arc<[IpNet]>) -> Self {
        Self {
            throttle,
            trusted_proxies,
            exempt: Arc::new([]),
        }
    }

    /// Paths the limit never counts (the health endpoints: a load balancer's probes share an
    /// address with nothing it should be throttled for, and a flood from its address must not
    /// take the instance out of rotation).
    pub fn exempt(mut self, paths: impl IntoIterator<Item = String>) -> Self {
        self.exempt = paths.into_iter().collect();
        self
    }
}

impl<S> Layer<S> for IpThrottleLayer {
    type Service = IpThrottleService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        IpThrottleService {
            inner,
            throttle: self.throttle.clone(),
            trusted_proxies: self.trusted_proxies.clone(),
            exempt: self.exempt.clone(),
        }
    }
}

/// The service of [`IpThrottleLayer`].
#[derive(Clone, Debug)]
pub struct IpThrottleService<S> {
    inner: S,
    throttle: Throttle,
    trusted_proxies: Arc<[IpNet]>,
    exempt: Arc<[String]>,
}

impl<S> Service<Request<Body>> for IpThrottleService<S>
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

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if self.exempt.iter().any(|path| path == request.uri().path()) {
            return Box::pin(self.inner.call(request));
        }
        let Some(ip) = client_ip(&request, &self.trusted_proxies) else {
            // No peer address (an in-process call): nothing to key on.
            return Box::pin(self.inner.call(request));
        };
        let throttle = self.throttle.clone();
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            match throttle.check(&ip.to_string()).await {
                Ok(()) => inner.call(request).await,
                Err(error) => Ok(error.into_response()),
            }
        })
    }
}
