//! The shared backend: one atomic Lua script per check (GCRA), so every instance of an app
//! counts against the same bucket. Time comes from Redis (`TIME`), so instances with skewed
//! clocks still agree. Every key is written with a TTL equal to the time its bucket needs to
//! refill, so idle keys disappear on their own.
//!
//! When Redis cannot be reached the check fails **open**: the request is admitted, a warning
//! is logged (at most once per 10 s) and `rate_limit_backend_errors_total` counts it, and
//! `/health/ready` reports the outage in its body (staying 200 unless
//! `RAMPART_READINESS_REQUIRES` names Redis). An API that refuses every request because its cache is
//! down would turn a Redis incident into a full outage; the pre-authentication load shedding
//! still bounds the damage. The connection manager reconnects by itself when Redis returns.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use redis::aio::ConnectionManager;

/// GCRA in Redis. KEYS[1]: bucket; ARGV[1]: emission interval (µs); ARGV[2]: burst.
/// Returns {allowed, remaining, retry_after_µs, reset_µs}.
const GCRA: &str = r#"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local depth = interval * burst
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - depth
if now < allow_at then
  return {0, 0, allow_at - now, tat - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
return {1, math.floor((now + depth - new_tat) / interval), 0, new_tat - now}
"#;

/// A connection to the Redis that holds shared state.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    script: Arc<redis::Script>,
    prefix: Arc<str>,
    last_warning: Arc<AtomicU64>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// What a check decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decision {
    pub(crate) allowed: bool,
    pub(crate) remaining: u32,
    pub(crate) retry_after: Duration,
    pub(crate) reset: Duration,
}

impl RedisStore {
    /// Connects (with short timeouts: a rate-limit check must not hold a request for long).
    /// A Redis that cannot be reached at start does not stop the app (it is a shared
    /// dependency, like at any later moment): the store connects on first use, and limits fail
    /// open until Redis answers. A URL that cannot be used is still an error.
    pub async fn connect(url: &str, prefix: &str) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(250)))
            .set_number_of_retries(1);
        let connection = match client
            .get_connection_manager_with_config(config.clone())
            .await
        {
            Ok(connection) => connection,
            Err(error)
                if error.is_connection_refusal()
                    || error.is_io_error()
                    || error.is_timeout()
                    || error.is_connection_dropped() =>
            {
                tracing::warn!(error = %error, "Redis unreachable at start: rate limits fail open until it answers");
                metrics::gauge!("rampart_dependency_up", "dependency" => "redis").set(0.0);
                client.get_connection_manager_lazy(config)?
            }
            Err(error) => return Err(error),
        };
        Ok(Self {
            connection,
            script: Arc::new(redis::Script::new(GCRA)),
            prefix: Arc::from(prefix),
            last_warning: Arc::new(AtomicU64::new(0)),
        })
    }

    /// `PING`, for readiness.
    pub async fn ping(&self) -> redis::RedisResult<()> {
        // A connection that broke while Redis was away fails its first command and reconnects
        // behind it: a second PING tells whether Redis is back, so readiness does not report
        // it down once more after it returned (no other command may have come first).
        match self.ping_once().await {
            Ok(()) => Ok(()),
            Err(_) => self.ping_once().await,
        }
    }

    async fn ping_once(&self) -> redis::RedisResult<()> {
        let mut connection = self.connection.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .map(|_| ())
    }

    /// A connection (a clone of the shared manager), for other state kept beside the rate
    /// limits (idempotency records).
    pub(crate) fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }

    /// `<prefix>:<rest>`: every key this app writes starts with its prefix.
    pub(crate) fn prefixed(&self, rest: &str) -> String {
        format!("{}:{rest}", self.prefix)
    }

    /// The key of a bucket: `<prefix>:rl:<endpoint>:<who>`.
    pub(crate) fn key(&self, endpoint: &str, who: &str) -> String {
        format!("{}:rl:{endpoint}:{who}", self.prefix)
    }

    /// Runs the GCRA script; `None` when Redis could not answer (the caller fails open).
    pub(crate) async fn check(
        &self,
        key: &str,
        interval: Duration,
        burst: u32,
    ) -> Option<Decision> {
        let mut connection = self.connection.clone();
        let micros = u64::try_from(interval.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let mut invocation = self.script.key(key);
        invocation.arg(micros).arg(burst);
        let outcome: redis::RedisResult<(i64, i64, i64, i64)> = crate::spans::in_span(
            crate::spans::redis("rate_limit.check"),
            invocation.invoke_async(&mut connection),
        )
        .await;
        match outcome {
            Ok((allowed, remaining, retry_after, reset)) => Some(Decision {
                allowed: allowed == 1,
                remaining: u32::try_from(remaining.max(0)).unwrap_or(u32::MAX),
                retry_after: Duration::from_micros(retry_after.max(0).unsigned_abs()),
                reset: Duration::from_micros(reset.max(0).unsigned_abs()),
            }),
            Err(error) => {
                metrics::counter!("rate_limit_backend_errors_total").increment(1);
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or_default();
                let last = self.last_warning.load(Ordering::Relaxed);
                if now >= last + 10
                    && self
                        .last_warning
                        .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                        .is_ok()
                {
                    tracing::warn!(error = %error, "rate-limit backend unavailable: admitting requests (fail open)");
                }
                None
            }
        }
    }
}
