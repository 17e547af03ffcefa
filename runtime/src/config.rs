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
//! | `DATABASE_REPLICA_RETRY` | `5s` | a replica that failed is left alone this long (reads on the primary), then probed |
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

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use crate::auth::{JwtAlgorithm, JwtConfig, KeyPem};
use crate::db::DbConfig;
use crate::http::CorsConfig;
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
    /// Multiplies every declared rate limit (e.g. `100` in a load-test environment).
    pub rate_limit_multiplier: f64,
    /// Proxies whose `X-Forwarded-For` is believed (addresses or CIDR ranges).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Redis for state shared by instances (rate limits); `None`: in memory.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key this app writes.
    pub redis_prefix: String,
    /// Login attempts per (account, client IP).
    pub login_rate_limit: crate::rate_limit::RateLimitSpec,
    /// Requests per client IP before authentication; `None`: off.
    pub ip_rate_limit: Option<crate::rate_limit::RateLimitSpec>,
    /// A refresh family unused this long expires.
    pub refresh_idle: Duration,
    /// A refresh family this old expires, used or not.
    pub refresh_absolute: Duration,
    /// Shared dependencies whose outage fails `/health/ready` (`RAMPART_READINESS_REQUIRES`);
    /// empty: readiness fails only for this instance's own state (draining).
    pub readiness_requires: Vec<crate::health::Dependency>,
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
    /// Warnings found while loading (a generated secret, a short one...), logged at warn
    /// level by [`Config::log_warnings`] once logging is up (`App::new` calls it).
    pub warnings: Vec<String>,
}

/// `parse_duration`, kept only within `[min, max]`.
fn duration_within(min: Duration, max: Duration) -> impl Fn(&str) -> Option<Duration> {
    move |text| parse_duration(text).filter(|d| (min..=max).contains(d))
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

/// Secrets shared by instances must be at least this long.
const MIN_SECRET_BYTES: usize = 32;

impl Config {
    /// Cursor keys and `/metrics` exposure (issue 9, items 10 and 11).
    fn read_exposure_settings(
        &mut self,
        env: &Reader<'_>,
        jwt_secret_set: bool,
    ) -> Result<(), ConfigError> {
        let production = self.environment == Environment::Production;
        let long_enough = |name: &str, value: String| {
            if value.len() >= MIN_SECRET_BYTES {
                Ok(value.into_bytes())
            } else {
                Err(ConfigError(format!(
                    "{name} must be at least {MIN_SECRET_BYTES} bytes"
                )))
            }
        };
        self.cursor_secret = match env.get("RAMPART_CURSOR_SECRET") {
            Some(secret) => long_enough("RAMPART_CURSOR_SECRET", secret)?,
            None if production => {
                return Err(ConfigError(
                    "RAMPART_CURSOR_SECRET is required in production (at least 32 bytes, the same on every instance), so that list cursors survive restarts and work on every instance".into(),
                ));
            }
            // Development: the HS256 secret when one is configured (a purpose-separated key is
            // derived from it), else a random one.
            None if jwt_secret_set => self.jwt.secret.clone(),
            None => {
                self.warnings.push(
                    "RAMPART_CURSOR_SECRET not set: generated a random one; list cursors will not survive a restart or work on another instance".into(),
                );
                generate_secret()?
            }
        };
        self.cursor_previous_secret = env
            .get("RAMPART_CURSOR_SECRET_PREVIOUS")
            .map(|secret| long_enough("RAMPART_CURSOR_SECRET_PREVIOUS", secret))
            .transpose()?;
        self.metrics_bind = env.parse("METRICS_BIND", None, |v| v.parse().ok().map(Some))?;
        self.metrics_token = match env.get("METRICS_TOKEN") {
            Some(token) if token.trim().len() >= 16 => Some(token.trim().to_owned()),
            Some(_) => {
                return Err(ConfigError(
                    "METRICS_TOKEN must be at least 16 characters".into(),
                ));
            }
            None => None,
        };
        if production && self.metrics_bind.is_none() && self.metrics_token.is_none() {
            self.warnings.push(
                "/metrics is not served: in production set METRICS_BIND (a separate listener) or METRICS_TOKEN (a bearer token)".into(),
            );
        }
        if production && self.trusted_proxies.is_empty() {
            self.warnings.push(
                "RAMPART_TRUSTED_PROXIES is empty: behind a proxy or load balancer every client has its address, so anonymous clients share one per-IP limit and one in-flight budget".into(),
            );
        }
        Ok(())
    }

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

fn read_key(variable: &str, path: &str) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| ConfigError(format!("{variable}: cannot read `{path}`: {e}")))
}

/// Parses `JWT_VERIFICATION_KEYS`: `kid=path/to/public.pem,kid2=path/to/other.pem`.
fn parse_key_list(text: &str) -> Result<Vec<KeyPem>, ConfigError> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|entry| {
            let (kid, path) = entry.split_once('=').ok_or_else(|| {
                ConfigError(format!("JWT_VERIFICATION_KEYS: `{entry}` is not kid=path"))
            })?;
            Ok(KeyPem {
                kid: kid.trim().to_owned(),
                pem: read_key("JWT_VERIFICATION_KEYS", path.trim())?,
            })
        })
        .collect()
}

/// Parses `10.0.0.0/8, 192.168.1.7`: CIDR ranges or single addresses.
fn parse_proxies(text: &str) -> Option<Vec<ipnet::IpNet>> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .ok()
                .or_else(|| s.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from))
        })
        .collect()
}

/// Reads one variable through a lookup function (the environment, or a test's map).
struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Reader<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    fn parse<T>(
        &self,
        name: &str,
        default: T,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<T, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(value) => {
                parse(&value).ok_or_else(|| ConfigError(format!("{name}: cannot use `{value}`")))
            }
        }
    }
}

fn generate_secret() -> Result<Vec<u8>, ConfigError> {
    let mut secret = vec![0u8; 32];
    getrandom::fill(&mut secret)
        .map_err(|e| ConfigError(format!("cannot generate a JWT secret: {e}")))?;
    Ok(secret)
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (tests pass a map).
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Reader { lookup };
        let environment = match env.get("RAMPART_ENV").as_deref() {
            None | Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some(other) => {
                return Err(ConfigError(format!(
                    "RAMPART_ENV: expected development or production, got `{other}`"
                )));
            }
        };
        let production = environment == Environment::Production;
        // Start-up warnings are collected, not logged: logging is not initialised yet while
        // the configuration (its `RAMPART_SERVICE`, say) is read. `App::new` logs them.
        let mut warnings: Vec<String> = Vec::new();
        let algorithm = env.parse("JWT_ALGORITHM", JwtAlgorithm::Hs256, JwtAlgorithm::parse)?;
        let asymmetric = algorithm != JwtAlgorithm::Hs256;
        let jwt_secret_set = env.get("JWT_SECRET").is_some();
        let secret = match env.get("JWT_SECRET") {
            Some(secret) if secret.len() >= 32 => secret.into_bytes(),
            // With EdDSA/RS256 the secret signs nothing; a random one keeps the type simple.
            None if asymmetric => generate_secret()?,
            Some(_) if production => {
                return Err(ConfigError(
                    "JWT_SECRET must be at least 32 bytes in production".into(),
                ));
            }
            None if production => {
                return Err(ConfigError("JWT_SECRET is required in production".into()));
            }
            Some(_) => {
                warnings.push(
                    "JWT_SECRET is shorter than 32 bytes; acceptable only in development".into(),
                );
                env.get("JWT_SECRET")
                    .map(String::into_bytes)
                    .unwrap_or_default()
            }
            None => {
                warnings.push(
                    "JWT_SECRET not set: generated a random one; tokens will not survive a restart"
                        .into(),
                );
                generate_secret()?
            }
        };
        let database = DbConfig {
            url: env
                .get("DATABASE_URL")
                .unwrap_or_else(|| "sqlite://taskboard.db".to_owned()),
            replica_url: env.get("DATABASE_REPLICA_URL"),
            min_connections: env.parse("DATABASE_MIN_CONNECTIONS", 5, |v| v.parse().ok())?,
            max_connections: env.parse("DATABASE_MAX_CONNECTIONS", 25, |v| {
                v.parse().ok().filter(|n| *n > 0)
            })?,
            acquire_timeout: env.parse(
                "DATABASE_ACQUIRE_TIMEOUT",
                Duration::from_secs(3),
                |v| parse_duration(v).filter(|d| *d <= Duration::from_secs(3)),
            )?,
            statement_timeout: env.parse(
                "DATABASE_STATEMENT_TIMEOUT",
                Duration::from_secs(5),
                parse_duration,
            )?,
            slow_query: env.parse(
                "DATABASE_SLOW_QUERY",
                Duration::from_millis(500),
                parse_duration,
            )?,
            replica_retry: env.parse("DATABASE_REPLICA_RETRY", Duration::from_secs(5), |v| {
                parse_duration(v).filter(|d| !d.is_zero())
            })?,
        };
        if database.min_connections > database.max_connections {
            return Err(ConfigError(
                "DATABASE_MIN_CONNECTIONS is larger than DATABASE_MAX_CONNECTIONS".into(),
            ));
        }
        let mut config = Config {
            environment,
            bind: env.parse("BIND", SocketAddr::from(([127, 0, 0, 1], 3000)), |v| {
                v.parse().ok()
            })?,
            database,
            jwt: JwtConfig {
                secret,
                issuer: env
                    .get("JWT_ISSUER")
                    .unwrap_or_else(|| "rampart".to_owned()),
                audience: env
                    .get("JWT_AUDIENCE")
                    .unwrap_or_else(|| "rampart-api".to_owned()),
                access_ttl: Duration::from_secs(15 * 60),
                leeway: Duration::from_secs(30),
                algorithm,
                signing_key: match (env.get("JWT_SIGNING_KID"), env.get("JWT_SIGNING_KEY_FILE")) {
                    (Some(kid), Some(path)) => Some(KeyPem {
                        kid,
                        pem: read_key("JWT_SIGNING_KEY_FILE", &path)?,
                    }),
                    _ => None,
                },
                verification_keys: match env.get("JWT_VERIFICATION_KEYS") {
                    Some(list) => parse_key_list(&list)?,
                    None => Vec::new(),
                },
            },
            cors: CorsConfig {
                origins: env
                    .get("CORS_ORIGINS")
                    .map(|v| {
                        v.split(',')
                            .map(|o| o.trim().to_owned())
                            .filter(|o| !o.is_empty())
                            .collect()
                    })
                    .unwrap_or_default(),
                allow_credentials: env
                    .parse("CORS_ALLOW_CREDENTIALS", false, |v| v.parse().ok())?,
            },
            max_concurrency: env.parse("RAMPART_MAX_CONCURRENCY", 1024, |v| {
                v.parse().ok().filter(|n| *n > 0)
            })?,
            request_timeout: env.parse(
                "RAMPART_REQUEST_TIMEOUT",
                Duration::from_secs(30),
                parse_duration,
            )?,
            body_limit: env.parse("RAMPART_BODY_LIMIT", 1024 * 1024, parse_size)?,
            docs: env.parse("RAMPART_DOCS", !production, |v| v.parse().ok())?,
            shutdown_drain: env.parse(
                "RAMPART_SHUTDOWN_DRAIN",
                if production {
                    Duration::from_secs(5)
                } else {
                    Duration::ZERO
                },
                parse_duration,
            )?,
            service: env
                .get("RAMPART_SERVICE")
                .unwrap_or_else(|| "rampart".to_owned()),
            rate_limit_multiplier: env.parse("RAMPART_RATE_LIMIT_MULTIPLIER", 1.0, |v| {
                v.parse::<f64>().ok().filter(|m| m.is_finite() && *m > 0.0)
            })?,
            trusted_proxies: env.parse("RAMPART_TRUSTED_PROXIES", Vec::new(), parse_proxies)?,
            redis_url: env.get("REDIS_URL"),
            redis_prefix: env
                .get("RAMPART_REDIS_PREFIX")
                .unwrap_or_else(|| "rampart".to_owned()),
            login_rate_limit: env.parse(
                "RAMPART_LOGIN_RATE_LIMIT",
                crate::rate_limit::RateLimitSpec {
                    count: 5,
                    per: Duration::from_secs(60),
                    burst: 5,
                },
                crate::rate_limit::RateLimitSpec::parse,
            )?,
            ip_rate_limit: env.parse(
                "RAMPART_IP_RATE_LIMIT",
                crate::rate_limit::RateLimitSpec::parse("6000/min"),
                |v| {
                    if v == "off" {
                        Some(None)
                    } else {
                        crate::rate_limit::RateLimitSpec::parse(v).map(Some)
                    }
                },
            )?,
            refresh_idle: env.parse(
                "RAMPART_REFRESH_IDLE",
                crate::identity::DEFAULT_REFRESH_IDLE,
                parse_duration,
            )?,
            refresh_absolute: env.parse(
                "RAMPART_REFRESH_ABSOLUTE",
                crate::identity::DEFAULT_REFRESH_ABSOLUTE,
                parse_duration,
            )?,
            readiness_requires: env.parse(
                "RAMPART_READINESS_REQUIRES",
                Vec::new(),
                crate::health::Dependency::parse_list,
            )?,
            // Issue 9 items 5 and 7: slow and greedy clients.
            connections: ConnectionLimits {
                header_read_timeout: env.parse(
                    "RAMPART_HEADER_READ_TIMEOUT",
                    ConnectionLimits::default().header_read_timeout,
                    duration_within(Duration::from_secs(1), Duration::from_secs(300)),
                )?,
                keep_alive_timeout: env.parse(
                    "RAMPART_KEEP_ALIVE_TIMEOUT",
                    ConnectionLimits::default().keep_alive_timeout,
                    duration_within(Duration::from_secs(1), Duration::from_secs(3600)),
                )?,
                max_connections: env.parse(
                    "RAMPART_MAX_CONNECTIONS",
                    ConnectionLimits::default().max_connections,
                    |v| v.parse().ok().filter(|n| (1..=1_000_000).contains(n)),
                )?,
            },
            body_read_timeout: env.parse(
                "RAMPART_BODY_READ_TIMEOUT",
                Duration::from_secs(10),
                duration_within(Duration::from_millis(100), Duration::from_secs(3600)),
            )?,
            max_in_flight_per_principal: env.parse(
                "RAMPART_MAX_IN_FLIGHT_PER_PRINCIPAL",
                32,
                |v| v.parse().ok().filter(|n| (1..=100_000).contains(n)),
            )?,
            cursor_secret: Vec::new(),
            cursor_previous_secret: None,
            metrics_bind: None,
            metrics_token: None,
            warnings,
        };
        for dependency in &config.readiness_requires {
            let configured = match dependency {
                crate::health::Dependency::Database => true,
                crate::health::Dependency::Replica => config.database.replica_url.is_some(),
                crate::health::Dependency::Redis => config.redis_url.is_some(),
            };
            if !configured {
                return Err(ConfigError(format!(
                    "RAMPART_READINESS_REQUIRES names `{}`, which is not configured",
                    dependency.name()
                )));
            }
        }
        config.read_exposure_settings(&env, jwt_secret_set)?;
        crate::http::cors_layer(&config.cors).map_err(ConfigError)?;
        config.jwt.check_keys().map_err(ConfigError)?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(&move |name| map.get(name).cloned())
    }

    #[test]
    fn production_requires_a_long_secret() {
        assert!(config(&[("RAMPART_ENV", "production")]).is_err());
        assert!(config(&[("RAMPART_ENV", "production"), ("JWT_SECRET", "short")]).is_err());
        let ok = config(&[
            ("RAMPART_ENV", "production"),
            ("JWT_SECRET", &"x".repeat(32)),
            ("RAMPART_CURSOR_SECRET", &"c".repeat(32)),
        ]);
        assert_eq!(ok.map(|c| c.docs).ok(), Some(false));
    }

    #[test]
    fn cursor_secrets_are_configured_and_required_in_production() {
        let error = config(&[
            ("RAMPART_ENV", "production"),
            ("JWT_SECRET", &"x".repeat(32)),
        ])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            error.contains("RAMPART_CURSOR_SECRET is required in production"),
            "{error}"
        );
        assert!(config(&[("RAMPART_CURSOR_SECRET", "short")]).is_err());
        assert!(
            config(&[
                ("RAMPART_CURSOR_SECRET", &"c".repeat(32)),
                ("RAMPART_CURSOR_SECRET_PREVIOUS", "short")
            ])
            .is_err()
        );
        let set = config(&[
            ("RAMPART_CURSOR_SECRET", &"c".repeat(32)),
            ("RAMPART_CURSOR_SECRET_PREVIOUS", &"p".repeat(32)),
        ]);
        assert_eq!(
            set.map(|c| (c.cursor_secret, c.cursor_previous_secret))
                .ok(),
            Some((vec![b'c'; 32], Some(vec![b'p'; 32])))
        );
        // Development: from JWT_SECRET when there is one, else random with a warning.
        let derived = config(&[("JWT_SECRET", &"j".repeat(32))]);
        assert_eq!(derived.map(|c| c.cursor_secret).ok(), Some(vec![b'j'; 32]));
        let random = config(&[]).map(|c| (c.cursor_secret.len(), c.warnings));
        let (length, warnings) = random.unwrap_or_default();
        assert_eq!(length, 32);
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("RAMPART_CURSOR_SECRET not set")),
            "{warnings:?}"
        );
    }

    #[test]
    fn metrics_exposure_follows_the_environment() {
        let production = |extra: &[(&str, &str)]| {
            let secret = "x".repeat(32);
            let mut vars = vec![
                ("RAMPART_ENV", "production"),
                ("JWT_SECRET", secret.as_str()),
                ("RAMPART_CURSOR_SECRET", secret.as_str()),
            ];
            vars.extend_from_slice(extra);
            config(&vars)
        };
        let bare = production(&[]);
        assert_eq!(
            bare.as_ref().map(|c| c.metrics_on_main_listener()).ok(),
            Some(false)
        );
        assert!(
            bare.map(|c| c.warnings)
                .unwrap_or_default()
                .iter()
                .any(|w| w.contains("/metrics is not served"))
        );
        let token = production(&[("METRICS_TOKEN", "a-metrics-token-of-some-length")]);
        assert_eq!(token.map(|c| c.metrics_on_main_listener()).ok(), Some(true));
        let bind = production(&[("METRICS_BIND", "127.0.0.1:9100")]);
        assert_eq!(bind.map(|c| c.metrics_on_main_listener()).ok(), Some(false));
        assert!(production(&[("METRICS_TOKEN", "short")]).is_err());
        assert!(production(&[("METRICS_BIND", "nowhere")]).is_err());
        assert_eq!(
            config(&[]).map(|c| c.metrics_on_main_listener()).ok(),
            Some(true)
        );
    }

    #[test]
    fn development_generates_a_secret_and_defaults_apply() {
        let c = config(&[]).map_err(|e| e.to_string());
        assert_eq!(c.as_ref().map(|c| c.jwt.secret.len()), Ok(32));
        let warnings = c.as_ref().map(|c| c.warnings.clone()).unwrap_or_default();
        assert!(
            warnings.iter().any(|w| w.starts_with("JWT_SECRET not set")),
            "collected for the log: {warnings:?}"
        );
        assert_eq!(c.as_ref().map(|c| c.body_limit), Ok(1024 * 1024));
        assert_eq!(c.map(|c| c.bind.port()), Ok(3000));
    }

    #[test]
    fn bad_values_are_named() {
        let error = config(&[("RAMPART_REQUEST_TIMEOUT", "soon")])
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("configuration: RAMPART_REQUEST_TIMEOUT: cannot use `soon`")
        );
        assert!(config(&[("CORS_ORIGINS", "*"), ("CORS_ALLOW_CREDENTIALS", "true")]).is_err());
        assert!(config(&[("RAMPART_ENV", "staging")]).is_err());
        assert!(config(&[("RAMPART_RATE_LIMIT_MULTIPLIER", "0")]).is_err());
        assert!(config(&[("RAMPART_HEADER_READ_TIMEOUT", "0s")]).is_err());
        assert!(config(&[("RAMPART_HEADER_READ_TIMEOUT", "1h")]).is_err());
        assert!(config(&[("RAMPART_KEEP_ALIVE_TIMEOUT", "500ms")]).is_err());
        assert!(config(&[("RAMPART_MAX_CONNECTIONS", "0")]).is_err());
        assert!(config(&[("RAMPART_BODY_READ_TIMEOUT", "10ms")]).is_err());
        assert!(config(&[("RAMPART_MAX_IN_FLIGHT_PER_PRINCIPAL", "0")]).is_err());
        let slow = config(&[
            ("RAMPART_HEADER_READ_TIMEOUT", "5s"),
            ("RAMPART_KEEP_ALIVE_TIMEOUT", "2m"),
            ("RAMPART_MAX_CONNECTIONS", "500"),
            ("RAMPART_BODY_READ_TIMEOUT", "30s"),
            ("RAMPART_MAX_IN_FLIGHT_PER_PRINCIPAL", "8"),
        ])
        .map(|c| {
            (
                c.connections,
                c.body_read_timeout,
                c.max_in_flight_per_principal,
            )
        });
        assert_eq!(
            slow.ok(),
            Some((
                ConnectionLimits {
                    header_read_timeout: Duration::from_secs(5),
                    keep_alive_timeout: Duration::from_secs(120),
                    max_connections: 500,
                },
                Duration::from_secs(30),
                8
            ))
        );
        assert!(
            config(&[("JWT_ALGORITHM", "EdDSA")]).is_err(),
            "asymmetric needs keys"
        );
        assert!(config(&[("JWT_ALGORITHM", "none")]).is_err());
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/jwt");
        let signing = format!("{dir}/ed25519-k2.pem");
        let listed = format!("k1={dir}/ed25519-k1.pub.pem,k2={dir}/ed25519-k2.pub.pem");
        let rotating = config(&[
            ("RAMPART_ENV", "production"),
            ("JWT_ALGORITHM", "EdDSA"),
            ("JWT_SIGNING_KID", "k2"),
            ("JWT_SIGNING_KEY_FILE", &signing),
            ("JWT_VERIFICATION_KEYS", &listed),
            ("RAMPART_CURSOR_SECRET", &"c".repeat(32)),
        ]);
        assert_eq!(
            rotating.map(|c| c.jwt.verification_keys.len()).ok(),
            Some(2),
            "no JWT_SECRET needed"
        );
        let unlisted = format!("k1={dir}/ed25519-k1.pub.pem");
        assert!(
            config(&[
                ("JWT_ALGORITHM", "EdDSA"),
                ("JWT_SIGNING_KID", "k2"),
                ("JWT_SIGNING_KEY_FILE", &signing),
                ("JWT_VERIFICATION_KEYS", &unlisted),
            ])
            .is_err()
        );
        assert!(config(&[("RAMPART_TRUSTED_PROXIES", "10.0.0.0/8, nope")]).is_err());
        let proxies = config(&[("RAMPART_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7")])
            .map(|c| c.trusted_proxies.len());
        assert_eq!(proxies.ok(), Some(2));
    }

    #[test]
    fn readiness_requires_known_configured_dependencies() {
        use crate::health::Dependency;
        let named = config(&[
            ("RAMPART_READINESS_REQUIRES", "database, redis"),
            ("REDIS_URL", "redis://127.0.0.1:6379"),
        ])
        .map(|c| c.readiness_requires);
        assert_eq!(
            named.ok(),
            Some(vec![Dependency::Database, Dependency::Redis])
        );
        assert_eq!(
            config(&[]).map(|c| c.readiness_requires).ok(),
            Some(Vec::new())
        );
        let unknown = config(&[("RAMPART_READINESS_REQUIRES", "database,cache")])
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            unknown.as_deref(),
            Some("configuration: RAMPART_READINESS_REQUIRES: cannot use `database,cache`")
        );
        let unconfigured = config(&[("RAMPART_READINESS_REQUIRES", "redis")])
            .err()
            .map(|e| e.to_string());
        assert!(
            unconfigured.is_some_and(|e| e.contains("`redis`, which is not configured")),
            "redis is required but REDIS_URL is not set"
        );
        assert!(config(&[("RAMPART_READINESS_REQUIRES", "replica")]).is_err());
        assert!(config(&[("DATABASE_REPLICA_RETRY", "0s")]).is_err());
    }

    #[test]
    fn units() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("ten"), None);
        assert_eq!(parse_size("64KiB"), Some(65536));
        assert_eq!(parse_size("1MiB"), Some(1 << 20));
        assert_eq!(parse_size("1GB"), Some(1_000_000_000));
        assert_eq!(parse_size("1TB"), None);
        // The grammar the macros read: `timeout = "1h"` and `RAMPART_REQUEST_TIMEOUT=1h` agree.
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
    }
}
