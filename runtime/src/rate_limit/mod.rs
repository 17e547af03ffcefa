//! Layer 8: the endpoint's own rate limit (`#[endpoint(rate_limit = "120/min", burst = 20)]`).
//!
//! GCRA (governor), keyed by the API key id when a key authenticated the request, by the user
//! id for a JWT, and by the client IP otherwise. Every response of a limited endpoint carries `RateLimit-Policy` and `RateLimit`
//! in the syntax of draft-ietf-httpapi-ratelimit-headers; a refused request is the
//! `RATE_LIMITED` envelope with `Retry-After`. Memory is bounded: keys whose bucket has fully
//! refilled are swept. Limits are scaled per deployment by `RAMPART_RATE_LIMIT_MULTIPLIER`.
//! State is in memory (per instance) by default, or in Redis when `REDIS_URL` is set, so that
//! several instances share one limit (`redis.rs`).

mod client_ip;
mod redis;
mod throttle;

pub use client_ip::{client_ip, client_ip_of};
pub use ipnet::IpNet;
pub use redis::RedisStore;
use throttle::Verdict;
pub use throttle::{IpThrottleLayer, IpThrottleService, Throttle};

use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Request, header};
use axum::response::{IntoResponse, Response};
use governor::Quota;
use tower::{Layer, Service};
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::{ApiError, ErrorCode};

/// `RateLimit-Policy`.
pub const RATE_LIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
/// `RateLimit`.
pub const RATE_LIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// A declared limit: `count` requests per `per`, with bursts of up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSpec {
    /// Requests allowed per window.
    pub count: u32,
    /// The window.
    pub per: Duration,
    /// Largest burst (defaults to `count`).
    pub burst: u32,
}

impl RateLimitSpec {
    /// Parses `"120/min"` (units `sec`, `min`, `hour`, `day`); the burst equals the count. The
    /// grammar `#[endpoint(rate_limit)]` reads too ([`rampart_spec::rate`]).
    pub fn parse(text: &str) -> Option<Self> {
        let rate = rampart_spec::rate(text).ok()?;
        Some(Self {
            count: rate.count,
            per: Duration::from_secs(rate.per_seconds),
            burst: rate.count,
        })
    }

    /// The spec scaled by a deployment multiplier (at least one request per window).
    pub fn scaled(self, multiplier: f64) -> Self {
        let scale = |n: u32| {
            ((f64::from(n) * multiplier)
                .round()
                .clamp(1.0, f64::from(u32::MAX))) as u32
        };
        Self {
            count: scale(self.count),
            per: self.per,
            burst: scale(self.burst),
        }
    }

    fn quota(self) -> Option<Quota> {
        let interval = self
            .per
            .checked_div(self.count.max(1))?
            .max(Duration::from_nanos(1));
        let burst = NonZeroU32::new(self.burst.max(1))?;
        Quota::with_period(interval).map(|quota| quota.allow_burst(burst))
    }

    /// Nanoseconds for one request's worth of capacity to come back.
    fn interval(self) -> Duration {
        self.per.checked_div(self.count.max(1)).unwrap_or(self.per)
    }
}

/// Who a request counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(Uuid),
    /// An API key counts on its own, not as its owner (DESIGN: "by user id or API key id").
    Credential(Uuid),
    Ip(IpAddr),
    /// No principal and no known peer address (in-process calls).
    Unknown,
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::User(id) => write!(f, "u:{id}"),
            Key::Credential(id) => write!(f, "k:{id}"),
            Key::Ip(ip) => write!(f, "ip:{ip}"),
            Key::Unknown => f.write_str("unknown"),
        }
    }
}

struct Shared {
    throttle: Throttle,
    trusted_proxies: Arc<[IpNet]>,
    policy: HeaderValue,
}

/// Layer 8 for one endpoint.
#[derive(Clone)]
pub struct RateLimitLayer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for RateLimitLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimitLayer")
            .field("throttle", &self.shared.throttle)
            .finish_non_exhaustive()
    }
}

impl RateLimitLayer {
    /// A limiter for `spec` (already scaled for the deployment) of the endpoint named
    /// `endpoint`, in Redis when a store is given, else in memory. `None` when the spec cannot
    /// form a quota (it always can for specs the macro accepted).
    pub fn new(
        spec: RateLimitSpec,
        endpoint: &'static str,
        trusted_proxies: Arc<[IpNet]>,
        redis: Option<RedisStore>,
    ) -> Option<Self> {
        let policy = format!(
            "\"default\";q={};w={}",
            spec.count,
            spec.per.as_secs().max(1)
        );
        let policy = HeaderValue::from_str(&policy).ok()?;
        let throttle = Throttle::new(endpoint, spec, redis)?;
        Some(Self {
            shared: Arc::new(Shared {
                throttle,
                trusted_proxies,
                policy,
            }),
        })
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimitService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RateLimitService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service of [`RateLimitLayer`].
#[derive(Clone)]
pub struct RateLimitService<S> {
    inner: S,
    shared: Arc<Shared>,
}

fn ceil_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

fn rate_limit_value(remaining: u32, reset_seconds: u64) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("\"default\";r={remaining};t={reset_seconds}")).ok()
}

impl Shared {
    fn key(&self, request: &Request<Body>) -> Key {
        if let Some(principal) = request.extensions().get::<Principal>() {
            return match principal.api_key_id() {
                Some(key) => Key::Credential(key),
                None => Key::User(principal.user_id()),
            };
        }
        match client_ip(request, &self.trusted_proxies) {
            Some(ip) => Key::Ip(ip),
            None => Key::Unknown,
        }
    }
}

/// The 429 envelope with `Retry-After` and the ratelimit headers.
fn refused(policy: HeaderValue, wait_seconds: u64) -> Response {
    metrics::counter!("rate_limited_total").increment(1);
    let mut error = ApiError::new(ErrorCode::RateLimited)
        .with_header(header::RETRY_AFTER, HeaderValue::from(wait_seconds))
        .with_header(RATE_LIMIT_POLICY, policy);
    if let Some(value) = rate_limit_value(0, wait_seconds) {
        error = error.with_header(RATE_LIMIT, value);
    }
    error.into_response()
}

/// Adds the ratelimit headers to an admitted response (`RateLimit` only when known).
fn admitted(mut response: Response, policy: HeaderValue, state: Option<(u32, u64)>) -> Response {
    let headers = response.headers_mut();
    headers.insert(RATE_LIMIT_POLICY, policy);
    if let Some(value) = state.and_then(|(remaining, reset)| rate_limit_value(remaining, reset)) {
        headers.insert(RATE_LIMIT, value);
    }
    response
}

impl<S> Service<Request<Body>> for RateLimitService<S>
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
        let key = self.shared.key(&request).to_string();
        let policy = self.shared.policy.clone();
        match self.shared.throttle.decide(&key) {
            Verdict::Now(decision) if !decision.allowed => {
                Box::pin(
                    async move { Ok(refused(policy, ceil_seconds(decision.retry_after).max(1))) },
                )
            }
            Verdict::Now(decision) => {
                let state = (decision.remaining, ceil_seconds(decision.reset));
                let future = self.inner.call(request);
                Box::pin(async move {
                    let Ok(response) = future.await;
                    Ok(admitted(response, policy, Some(state)))
                })
            }
            Verdict::Later(pending) => {
                // A Redis round trip comes first and the inner service is called after it, so
                // this path owns a clone of the inner service.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                Box::pin(async move {
                    match pending.await {
                        Some(decision) if !decision.allowed => {
                            Ok(refused(policy, ceil_seconds(decision.retry_after).max(1)))
                        }
                        Some(decision) => {
                            let Ok(response) = inner.call(request).await;
                            let state = (decision.remaining, ceil_seconds(decision.reset));
                            Ok(admitted(response, policy, Some(state)))
                        }
                        None => {
                            let Ok(response) = inner.call(request).await;
                            Ok(admitted(response, policy, None))
                        }
                    }
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_scale_and_form_quotas() {
        let spec = RateLimitSpec {
            count: 10,
            per: Duration::from_secs(60),
            burst: 10,
        };
        assert_eq!(spec.scaled(100.0).count, 1000);
        assert_eq!(spec.scaled(0.001).count, 1, "never below one per window");
        assert_eq!(spec.interval(), Duration::from_secs(6));
        assert!(spec.quota().is_some());
        assert_eq!(ceil_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(ceil_seconds(Duration::from_secs(3)), 3);
    }
}
