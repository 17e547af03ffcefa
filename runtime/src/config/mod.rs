//! Configuration from the environment, validated once at start.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `RAMPART_ENV` | `development` | `production` requires `JWT_SECRET` (≥ 32 bytes) and turns `/docs` off |
//! | `BIND` | `127.0.0.1:3000` | listen address |
//! | `DATABASE_URL` | `sqlite://taskboard.db` | `sqlite://…` or `postgres://…` |
//! | `DATABASE_REPLICA_URL` | none | read replica |
//! | `DATABASE_MIN_CONNECTIONS` / `DATABASE_MAX_CONNECTIONS` | 5 / 25 | pool size |
//! | `DATABASE_STATEMENT_TIMEOUT` | `5s` | per statement |
//! | `DATABASE_SLOW_QUERY` | `500ms` | slower statements are logged at warn |
//! | `RAMPART_LOG_STATEMENTS` | `false` | `true`: one line per statement of rampart's runner (its name and `duration_ms`, never SQL or values), info (warn when slow) |
//! | `RAMPART_LOG_REQUEST_START` | `debug` | level of the `request started` line (`info` or `debug`) |
//! | `RAMPART_TRACE_INCOMING` | `continue` | `continue`: a request's `traceparent` is its parent and its sampling decision stands; `restart`: every request starts its own trace, sampled here, linked to the caller's span (a public edge) |
//! | `DATABASE_REPLICA_RETRY` | `5s` | a replica that failed is left alone this long (reads on the primary), then probed |
//! | `RAMPART_READ_YOUR_WRITES` | `5s` | with a replica, a user's reads go to the primary this long after its write (0s–1h; `0s`: off) |
//! | `JWT_SECRET` | generated in development | HS256 key |
//! | `JWT_ISSUER` / `JWT_AUDIENCE` | `rampart` / `rampart-api` | required claims |
//! | `JWT_ALGORITHM` | `HS256` | or `EdDSA` / `RS256` with the two variables below |
//! | `JWT_SIGNING_KEY_FILE` + `JWT_SIGNING_KID` | none | private PEM key that signs, and its `kid` |
//! | `JWT_VERIFICATION_KEYS` | none | `kid=public.pem,...`: every accepted key (rotation) |
//! | `CORS_ORIGINS` | none | comma-separated origins |
//! | `CORS_ALLOW_CREDENTIALS` | `false` | |
//! | `RAMPART_MAX_CONCURRENCY` | `1024` | in-flight requests before 503 |
//! | `RAMPART_REQUEST_TIMEOUT` | `30s` | default endpoint timeout |
//! | `RAMPART_BODY_LIMIT` | `1MiB` | default body limit |
//! | `RAMPART_DOCS` | on in development | serve `/docs` and `/openapi.json` |
//! | `RAMPART_SHUTDOWN_DRAIN` | `0s` (development), `5s` (production) | time `/health/ready` reports 503 before the listener closes |
//! | `RAMPART_SERVICE` | `rampart` | `service` field of log lines |
//! | `RAMPART_RATE_LIMIT_MULTIPLIER` | `1` | scales every declared rate limit |
//! | `RAMPART_TRUSTED_PROXIES` | none | CIDRs whose `X-Forwarded-For` is believed |
//! | `REDIS_URL` | none | shared rate limits across instances (fail open when Redis is down) |
//! | `RAMPART_REDIS_PREFIX` | `rampart` | prefix of every Redis key |
//! | `RAMPART_REFRESH_IDLE` / `RAMPART_REFRESH_ABSOLUTE` | `7d` / `30d` | refresh-token family expiry |
//! | `RAMPART_LOGIN_RATE_LIMIT` | `5/min` | login attempts per (account, client IP) |
//! | `RAMPART_IP_RATE_LIMIT` | `6000/min` | requests per client IP before authentication (`off` to disable) |
//! | `RAMPART_READINESS_REQUIRES` | none | `database,replica,redis`: shared dependencies whose outage fails `/health/ready` |
//! | `RAMPART_HEADER_READ_TIMEOUT` | `10s` | a request head must arrive within it (1s–5min), else the connection closes |
//! | `RAMPART_KEEP_ALIVE_TIMEOUT` | `75s` | an idle keep-alive connection closes after it (1s–1h) |
//! | `RAMPART_MAX_CONNECTIONS` | `10000` | open connections; past it a new one is accepted and closed at once |
//! | `RAMPART_BODY_READ_TIMEOUT` | `10s` | the whole body must arrive within it (100ms–1h), else 408 |
//! | `RAMPART_MAX_IN_FLIGHT_PER_PRINCIPAL` | `32` | concurrent requests per user (per IP when anonymous) before 429 |
//! | `RAMPART_CURSOR_SECRET` | required in production; development: from `JWT_SECRET`, else generated | signs list cursors (≥ 32 bytes, the same on every instance) |
//! | `RAMPART_CURSOR_SECRET_PREVIOUS` | none | a previous cursor secret still accepted (rotation) |
//! | `METRICS_BIND` | none | serve `/metrics` on this separate listener only |
//! | `METRICS_TOKEN` | none | `/metrics` requires `Authorization: Bearer <token>` (≥ 16 characters) |
//! | `RAMPART_JOB_CONCURRENCY` | `4` | jobs a worker runs at once per queue; `4,mail=8` sets named queues |
//! | `RAMPART_JOB_LEASE` | `30s` | a job's delivery stays with its worker this long without renewal (1s–1h); a dead worker's jobs run again after it |
//! | `RAMPART_JOB_SHUTDOWN_GRACE` | `25s` | running jobs may finish this long after SIGTERM (0s–1h); the rest go back to the queue |
//! | `RAMPART_JOB_MAX_DELIVERIES` | `5` | deliveries of one attempt (1–1000); past it a job whose worker keeps dying goes to the dead-letter queue unrun |
//! | `RAMPART_JOB_DEAD_RETENTION` | `30d` | dead jobs older than this are deleted by the workers (1min–3650d) |
//! | `RAMPART_JOB_DEAD_MAX` | `10000` | dead jobs kept, the newest (1–10000000); the oldest beyond it are deleted |
//!
//! Direction: each module defines its own settings (`DbConfig` in `db`, `JwtConfig` in `auth`,
//! `CorsConfig` in `http`, `ConnectionLimits` in `server`, `RateLimitSpec` in `rate_limit`,
//! `SharedDependency` in `health`, the refresh lifetimes in `identity`, `WorkerSettings` in `jobs`); this module only reads the
//! environment (`env`) and fills them in. It imports those modules and none of them imports it:
//! only `app`, which assembles the running app from a [`Config`], and the testing kit do.

mod env;

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use crate::auth::JwtConfig;
use crate::db::DbConfig;
use crate::health::SharedDependency;
use crate::http::CorsConfig;
use crate::identity::RefreshLifetimes;
use crate::jobs::WorkerSettings;
use crate::rate_limit::RateLimitSpec;
pub use crate::server::ConnectionLimits;

/// `development` or `production`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Generates a JWT secret when none is set; serves the docs.
    Development,
    /// Requires a real JWT secret; docs off unless enabled.
    Production,
}

/// A configuration value that cannot be used. Start-up stops with this message.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// The whole configuration of a rampart app.
#[derive(Clone)]
pub struct Config {
    /// The environment.
    pub environment: Environment,
    /// Listen address.
    pub bind: SocketAddr,
    /// Database settings.
    pub database: DbConfig,
    /// JWT settings.
    pub jwt: JwtConfig,
    /// CORS settings.
    pub cors: CorsConfig,
    /// In-flight requests before load shedding.
    pub max_concurrency: usize,
    /// Default endpoint timeout.
    pub request_timeout: Duration,
    /// Default body limit in bytes.
    pub body_limit: usize,
    /// Serve `/docs` and `/openapi.json`.
    pub docs: bool,
    /// How long readiness reports 503 before the listener closes on shutdown.
    pub shutdown_drain: Duration,
    /// `service` field of every log line.
    pub service: String,
    /// Level of the `request started` line (`RAMPART_LOG_REQUEST_START`).
    pub log_request_start: crate::observability::RequestStartLevel,
    /// What a request's `traceparent` decides (`RAMPART_TRACE_INCOMING`).
    pub trace_incoming: crate::trace::IncomingTrace,
    /// Multiplies every declared rate limit (e.g. `100` in a load-test environment).
    pub rate_limit_multiplier: f64,
    /// Proxies whose `X-Forwarded-For` is believed (addresses or CIDR ranges).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Redis for state shared by instances (rate limits); `None`: in memory.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key this app writes.
    pub redis_prefix: String,
    /// Login attempts per (account, client IP).
    pub login_rate_limit: RateLimitSpec,
    /// Requests per client IP before authentication; `None`: off.
    pub ip_rate_limit: Option<RateLimitSpec>,
    /// How long a refresh family lives (`RAMPART_REFRESH_IDLE` / `RAMPART_REFRESH_ABSOLUTE`).
    pub refresh: RefreshLifetimes,
    /// Shared dependencies whose outage fails `/health/ready` (`RAMPART_READINESS_REQUIRES`);
    /// empty: readiness fails only for this instance's own state (draining).
    pub readiness_requires: Vec<SharedDependency>,
    /// Connection limits of the server (header and keep-alive timeouts, connection cap).
    pub connections: ConnectionLimits,
    /// Default deadline for receiving a whole request body.
    pub body_read_timeout: Duration,
    /// Concurrent requests per principal (per client IP when anonymous) before 429.
    pub max_in_flight_per_principal: usize,
    /// Key material list cursors are signed with (`RAMPART_CURSOR_SECRET`); the same on every
    /// instance, so a next-page link works on any of them and after a restart.
    pub cursor_secret: Vec<u8>,
    /// A previous cursor secret still accepted (`RAMPART_CURSOR_SECRET_PREVIOUS`, rotation).
    pub cursor_previous_secret: Option<Vec<u8>>,
    /// A separate listener for `/metrics` (`METRICS_BIND`); when set, the main listener does
    /// not serve it.
    pub metrics_bind: Option<SocketAddr>,
    /// A bearer token `/metrics` requires (`METRICS_TOKEN`), wherever it is served.
    pub metrics_token: Option<String>,
    /// How long an idempotent endpoint keeps a completed answer unless it declares its own
    /// `ttl` (`RAMPART_IDEMPOTENCY_TTL`, 24 h).
    pub idempotency_ttl: Duration,
    /// Where idempotency records live (`RAMPART_IDEMPOTENCY_STORE`: `redis` or `database`);
    /// `None`: Redis when `REDIS_URL` is set, else the database.
    pub idempotency_store: Option<crate::idempotency::StoreChoice>,
    /// How job workers run (`RAMPART_JOB_*`).
    pub jobs: WorkerSettings,
    /// The most the in-process tier of the response cache holds, in bytes
    /// (`RAMPART_CACHE_MAX_BYTES`, 64 MiB; a size like `256MiB`).
    pub cache_max_bytes: u64,
    /// Warnings found while loading (a generated secret, a short one...), logged at warn
    /// level by [`Config::log_warnings`] once logging is up (`App::new` calls it).
    pub warnings: Vec<String>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("environment", &self.environment)
            .field("bind", &self.bind)
            .field("database", &self.database)
            .field("jwt", &self.jwt)
            .field("cors", &self.cors)
            .field("max_concurrency", &self.max_concurrency)
            .field("request_timeout", &self.request_timeout)
            .field("body_limit", &self.body_limit)
            .field("docs", &self.docs)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Whether the main listener serves `/metrics`: not when it has its own listener, and in
    /// production only behind `METRICS_TOKEN`.
    pub fn metrics_on_main_listener(&self) -> bool {
        self.metrics_bind.is_none()
            && (self.environment == Environment::Development || self.metrics_token.is_some())
    }

    /// Logs every warning collected while loading, at warn level. `App::new` calls it, so an
    /// app that initialises logging before building its `App` sees them all.
    pub fn log_warnings(&self) {
        for warning in &self.warnings {
            tracing::warn!(event = "config_warning", "{warning}");
        }
    }
}

/// Parses a duration (`500ms`, `5s`, `2m`, `1h`, `7d`): the grammar `#[endpoint(timeout)]`
/// reads too ([`rampart_spec::duration`]).
pub fn parse_duration(text: &str) -> Option<Duration> {
    rampart_spec::duration(text).ok()
}

/// Parses a size (`512`, `64KiB`, `1MiB`, `10KB`): the grammar `#[endpoint(body_limit)]` reads
/// too ([`rampart_spec::size`]).
pub fn parse_size(text: &str) -> Option<usize> {
    rampart_spec::size(text).ok()
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }
}

#[cfg(test)]
mod tests;
