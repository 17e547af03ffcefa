//! The one GCRA mechanism behind every limit: a named, keyed throttle whose state lives in
//! memory (governor) or in Redis (`redis.rs`). Endpoint limits (`RateLimitLayer`), login
//! attempts per (account, client IP) and the coarse per-IP limit before authentication all
//! decide through it (the layers that apply them are in the `pipeline` module).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::{HeaderValue, header};
use governor::RateLimiter;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;

pub(crate) use super::redis::Decision;
use super::{RateLimitSpec, RedisStore, ceil_seconds};
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
            Some(decision) if !decision.allowed => Err(self.refusal(&decision)),
            _ => Ok(()),
        }
    }

    /// The 429 of a refused check (`RATE_LIMITED` with `Retry-After`), counted in
    /// `throttled_total`.
    pub(crate) fn refusal(&self, decision: &Decision) -> ApiError {
        metrics::counter!("throttled_total", "throttle" => self.inner.name).increment(1);
        let seconds = ceil_seconds(decision.retry_after).max(1);
        ApiError::new(ErrorCode::RateLimited)
            .with_header(header::RETRY_AFTER, HeaderValue::from(seconds))
    }
}
