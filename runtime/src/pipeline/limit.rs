//! Layer 8: the endpoint's own rate limit (`#[endpoint(rate_limit = "120/min", burst = 20)]`),
//! between authorization and the body guard, so it counts authenticated users by id and
//! never reads a body first.
//!
//! Keyed by the API key id when a key authenticated the request, by the user id for a JWT,
//! and by the client IP otherwise. Every response of a limited endpoint carries
//! `RateLimit-Policy` and `RateLimit` in the syntax of draft-ietf-httpapi-ratelimit-headers;
//! a refused request is the `RATE_LIMITED` envelope with `Retry-After`. The throttle itself
//! (memory or Redis) is `crate::rate_limit`.

use std::fmt::Write as _;
use std::net::IpAddr;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::auth::Principal;
use crate::error::{ApiError, ErrorCode};
use crate::rate_limit::{
    Decision, RATE_LIMIT, RATE_LIMIT_POLICY, RateLimitSpec, RedisStore, Throttle, Verdict,
    ceil_seconds,
};

/// One endpoint's limit: its throttle and its constant `RateLimit-Policy` value.
pub(super) struct EndpointLimit {
    throttle: Throttle,
    policy: HeaderValue,
}

impl std::fmt::Debug for EndpointLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointLimit")
            .field("throttle", &self.throttle)
            .finish_non_exhaustive()
    }
}

/// The headers an admitted response gets: the policy, and `RateLimit` when known.
pub(super) struct Admitted {
    policy: HeaderValue,
    state: Option<(u32, u64)>,
}

/// What the limit decided for one request.
pub(super) enum Outcome {
    Admitted(Admitted),
    Refused(Response),
    /// A Redis round trip decides.
    Later(std::pin::Pin<Box<dyn std::future::Future<Output = Option<Decision>> + Send>>),
}

impl EndpointLimit {
    /// A limiter for `spec` (already scaled for the deployment) of the endpoint named
    /// `endpoint`, in Redis when a store is given, else in memory. `None` when the spec cannot
    /// form a quota (it always can for specs the macro accepted).
    pub(super) fn new(
        spec: RateLimitSpec,
        endpoint: &'static str,
        redis: Option<RedisStore>,
    ) -> Option<Self> {
        let policy = format!(
            "\"default\";q={};w={}",
            spec.count,
            spec.per.as_secs().max(1)
        );
        let policy = HeaderValue::from_str(&policy).ok()?;
        let throttle = Throttle::new(endpoint, spec, redis)?;
        Some(Self { throttle, policy })
    }

    /// Counts the request against its key and decides.
    pub(super) fn check(&self, principal: Option<&Principal>, ip: Option<IpAddr>) -> Outcome {
        let mut key = String::with_capacity(40);
        let _ = match (principal, ip) {
            (Some(principal), _) => match principal.api_key_id() {
                // An API key counts on its own, not as its owner ("by user id or API key id").
                Some(id) => write!(key, "k:{id}"),
                None => write!(key, "u:{}", principal.user_id()),
            },
            (None, Some(ip)) => write!(key, "ip:{ip}"),
            // No principal and no known peer address (in-process calls).
            (None, None) => write!(key, "unknown"),
        };
        match self.throttle.decide(&key) {
            Verdict::Now(decision) => self.resolve(Some(decision)),
            Verdict::Later(pending) => Outcome::Later(pending),
        }
    }

    /// The outcome of a decision (`None`: Redis could not answer; admitted, fail open).
    pub(super) fn resolve(&self, decision: Option<Decision>) -> Outcome {
        match decision {
            Some(decision) if !decision.allowed => Outcome::Refused(refused(
                self.policy.clone(),
                ceil_seconds(decision.retry_after).max(1),
            )),
            Some(decision) => Outcome::Admitted(Admitted {
                policy: self.policy.clone(),
                state: Some((decision.remaining, ceil_seconds(decision.reset))),
            }),
            None => Outcome::Admitted(Admitted {
                policy: self.policy.clone(),
                state: None,
            }),
        }
    }
}

fn rate_limit_value(remaining: u32, reset_seconds: u64) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("\"default\";r={remaining};t={reset_seconds}")).ok()
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

impl Admitted {
    /// Adds the ratelimit headers to an admitted response (`RateLimit` only when known).
    pub(super) fn apply(self, response: &mut Response) {
        let headers = response.headers_mut();
        headers.insert(RATE_LIMIT_POLICY, self.policy);
        if let Some(value) = self
            .state
            .and_then(|(remaining, reset)| rate_limit_value(remaining, reset))
        {
            headers.insert(RATE_LIMIT, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn keys_policy_and_headers() {
        let spec = RateLimitSpec {
            count: 10,
            per: Duration::from_secs(60),
            burst: 10,
        };
        let limit = EndpointLimit::new(spec, "test", None);
        assert_eq!(
            limit.as_ref().map(|l| l.policy.clone()),
            Some(HeaderValue::from_static("\"default\";q=10;w=60"))
        );
        assert_eq!(
            rate_limit_value(3, 7),
            Some(HeaderValue::from_static("\"default\";r=3;t=7"))
        );
    }
}
