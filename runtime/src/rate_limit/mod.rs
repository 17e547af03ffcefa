//! Rate limits: the grammar of a declared limit, and the throttle every limit decides through.
//! The layers that apply them (the coarse per-IP limit, the endpoint's own limit) are in
//! the `pipeline` module.
//!
//! The endpoint's own rate limit (`#[endpoint(rate_limit = "120/min", burst = 20)]`).
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
pub use throttle::Throttle;
pub(crate) use throttle::{Decision, Verdict};

use std::num::NonZeroU32;
use std::time::Duration;

use axum::http::HeaderName;
use governor::Quota;

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
    pub(crate) fn interval(self) -> Duration {
        self.per.checked_div(self.count.max(1)).unwrap_or(self.per)
    }
}

pub(crate) fn ceil_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
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
