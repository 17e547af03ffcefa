//! Reading the environment into the settings of each module: the variables, their defaults
//! and bounds, and the checks that need several of them at once.

use std::net::SocketAddr;
use std::time::Duration;

use super::{Config, ConfigError, ConnectionLimits, Environment, parse_duration, parse_size};
use crate::auth::{JwtAlgorithm, JwtConfig, KeyPem};
use crate::db::DbConfig;
use crate::health::SharedDependency;
use crate::http::CorsConfig;
use crate::identity::RefreshLifetimes;
use crate::jobs::WorkerSettings;
use crate::observability::RequestStartLevel;
use crate::rate_limit::RateLimitSpec;

/// `parse_duration`, kept only within `[min, max]`.
fn duration_within(min: Duration, max: Duration) -> impl Fn(&str) -> Option<Duration> {
    move |text| parse_duration(text).filter(|d| (min..=max).contains(d))
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
    /// Reads configuration through `lookup` (tests pass a map). Variables are read in a fixed
    /// order, so the first unusable one is the error.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Reader { lookup };
        let environment = read_environment(&env)?;
        let production = environment == Environment::Production;
        // Start-up warnings are collected, not logged: logging is not initialised yet while
        // the configuration (its `RAMPART_SERVICE`, say) is read. `App::new` logs them.
        let mut warnings: Vec<String> = Vec::new();
        let (algorithm, secret) = read_jwt_secret(&env, production, &mut warnings)?;
        let jwt_secret_set = env.get("JWT_SECRET").is_some();
        let database = read_database(&env)?;
        let mut config = Config {
            environment,
            bind: env.parse("BIND", SocketAddr::from(([127, 0, 0, 1], 3000)), |v| {
                v.parse().ok()
            })?,
            database,
            jwt: read_jwt(&env, algorithm, secret)?,
            cors: read_cors(&env)?,
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
            log_request_start: env.parse(
                "RAMPART_LOG_REQUEST_START",
                RequestStartLevel::Debug,
                |v| match v.to_ascii_lowercase().as_str() {
                    "debug" => Some(RequestStartLevel::Debug),
                    "info" => Some(RequestStartLevel::Info),
                    _ => None,
                },
            )?,
            trace_incoming: env.parse(
                "RAMPART_TRACE_INCOMING",
                crate::trace::IncomingTrace::Continue,
                crate::trace::IncomingTrace::parse,
            )?,
            rate_limit_multiplier: env.parse("RAMPART_RATE_LIMIT_MULTIPLIER", 1.0, |v| {
                v.parse::<f64>().ok().filter(|m| m.is_finite() && *m > 0.0)
            })?,
            trusted_proxies: env.parse("RAMPART_TRUSTED_PROXIES", Vec::new(), parse_proxies)?,
            redis_url: env.get("REDIS_URL"),
            redis_prefix: env
                .get("RAMPART_REDIS_PREFIX")
                .unwrap_or_else(|| "rampart".to_owned()),
            login_rate_limit: read_login_rate_limit(&env)?,
            ip_rate_limit: read_ip_rate_limit(&env)?,
            refresh: read_refresh(&env)?,
            readiness_requires: env.parse(
                "RAMPART_READINESS_REQUIRES",
                Vec::new(),
                SharedDependency::parse_list,
            )?,
            connections: read_connections(&env)?,
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
            idempotency_ttl: env.parse(
                "RAMPART_IDEMPOTENCY_TTL",
                Duration::from_secs(24 * 3600),
                duration_within(Duration::from_secs(1), Duration::from_secs(30 * 86_400)),
            )?,
            idempotency_store: env.parse("RAMPART_IDEMPOTENCY_STORE", None, |v| {
                crate::idempotency::StoreChoice::parse(v).map(Some)
            })?,
            jobs: read_jobs(&env)?,
            cache_max_bytes: env.parse(
                "RAMPART_CACHE_MAX_BYTES",
                crate::cache::DEFAULT_MAX_BYTES,
                |v| {
                    parse_size(v)
                        .map(|bytes| bytes as u64)
                        .filter(|bytes| *bytes >= 1024 * 1024)
                },
            )?,
            warnings,
        };
        config.check_readiness_requires()?;
        if config.idempotency_store == Some(crate::idempotency::StoreChoice::Redis)
            && config.redis_url.is_none()
        {
            return Err(ConfigError(
                "RAMPART_IDEMPOTENCY_STORE is `redis`, but REDIS_URL is not set".to_owned(),
            ));
        }
        config.read_exposure_settings(&env, jwt_secret_set)?;
        crate::http::cors_layer(&config.cors).map_err(ConfigError)?;
        config.jwt.check_keys().map_err(ConfigError)?;
        Ok(config)
    }

    /// Every dependency `RAMPART_READINESS_REQUIRES` names must be configured.
    fn check_readiness_requires(&self) -> Result<(), ConfigError> {
        for dependency in &self.readiness_requires {
            let configured = match dependency {
                SharedDependency::Database => true,
                SharedDependency::Replica => self.database.replica_url.is_some(),
                SharedDependency::Redis => self.redis_url.is_some(),
            };
            if !configured {
                return Err(ConfigError(format!(
                    "RAMPART_READINESS_REQUIRES names `{}`, which is not configured",
                    dependency.name()
                )));
            }
        }
        Ok(())
    }
}

/// `RAMPART_ENV`.
fn read_environment(env: &Reader<'_>) -> Result<Environment, ConfigError> {
    match env.get("RAMPART_ENV").as_deref() {
        None | Some("development") => Ok(Environment::Development),
        Some("production") => Ok(Environment::Production),
        Some(other) => Err(ConfigError(format!(
            "RAMPART_ENV: expected development or production, got `{other}`"
        ))),
    }
}

/// `JWT_ALGORITHM` and `JWT_SECRET`: the algorithm, and the HS256 secret (generated where
/// development or an asymmetric algorithm allows it).
fn read_jwt_secret(
    env: &Reader<'_>,
    production: bool,
    warnings: &mut Vec<String>,
) -> Result<(JwtAlgorithm, Vec<u8>), ConfigError> {
    let algorithm = env.parse("JWT_ALGORITHM", JwtAlgorithm::Hs256, JwtAlgorithm::parse)?;
    let asymmetric = algorithm != JwtAlgorithm::Hs256;
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
        Some(secret) => {
            warnings
                .push("JWT_SECRET is shorter than 32 bytes; acceptable only in development".into());
            secret.into_bytes()
        }
        None => {
            warnings.push(
                "JWT_SECRET not set: generated a random one; tokens will not survive a restart"
                    .into(),
            );
            generate_secret()?
        }
    };
    Ok((algorithm, secret))
}

/// `DATABASE_*`.
fn read_database(env: &Reader<'_>) -> Result<DbConfig, ConfigError> {
    let database = DbConfig {
        url: env
            .get("DATABASE_URL")
            .unwrap_or_else(|| "sqlite://taskboard.db".to_owned()),
        replica_url: env.get("DATABASE_REPLICA_URL"),
        min_connections: env.parse("DATABASE_MIN_CONNECTIONS", 5, |v| v.parse().ok())?,
        max_connections: env.parse("DATABASE_MAX_CONNECTIONS", 25, |v| {
            v.parse().ok().filter(|n| *n > 0)
        })?,
        acquire_timeout: env.parse("DATABASE_ACQUIRE_TIMEOUT", Duration::from_secs(3), |v| {
            parse_duration(v).filter(|d| *d <= Duration::from_secs(3))
        })?,
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
        log_statements: env.parse("RAMPART_LOG_STATEMENTS", false, |v| v.parse().ok())?,
        read_your_writes: env.parse(
            "RAMPART_READ_YOUR_WRITES",
            crate::db::DEFAULT_READ_YOUR_WRITES,
            duration_within(Duration::ZERO, Duration::from_secs(3600)),
        )?,
    };
    if database.min_connections > database.max_connections {
        return Err(ConfigError(
            "DATABASE_MIN_CONNECTIONS is larger than DATABASE_MAX_CONNECTIONS".into(),
        ));
    }
    Ok(database)
}

/// The other `JWT_*` variables: claims and the asymmetric keys.
fn read_jwt(
    env: &Reader<'_>,
    algorithm: JwtAlgorithm,
    secret: Vec<u8>,
) -> Result<JwtConfig, ConfigError> {
    Ok(JwtConfig {
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
    })
}

/// `CORS_*`.
fn read_cors(env: &Reader<'_>) -> Result<CorsConfig, ConfigError> {
    Ok(CorsConfig {
        origins: env
            .get("CORS_ORIGINS")
            .map(|v| {
                v.split(',')
                    .map(|o| o.trim().to_owned())
                    .filter(|o| !o.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        allow_credentials: env.parse("CORS_ALLOW_CREDENTIALS", false, |v| v.parse().ok())?,
    })
}

/// `RAMPART_LOGIN_RATE_LIMIT`.
fn read_login_rate_limit(env: &Reader<'_>) -> Result<RateLimitSpec, ConfigError> {
    env.parse(
        "RAMPART_LOGIN_RATE_LIMIT",
        RateLimitSpec {
            count: 5,
            per: Duration::from_secs(60),
            burst: 5,
        },
        RateLimitSpec::parse,
    )
}

/// `RAMPART_IP_RATE_LIMIT` (`off`: none).
fn read_ip_rate_limit(env: &Reader<'_>) -> Result<Option<RateLimitSpec>, ConfigError> {
    env.parse(
        "RAMPART_IP_RATE_LIMIT",
        RateLimitSpec::parse("6000/min"),
        |v| {
            if v == "off" {
                Some(None)
            } else {
                RateLimitSpec::parse(v).map(Some)
            }
        },
    )
}

/// `RAMPART_REFRESH_IDLE` and `RAMPART_REFRESH_ABSOLUTE`.
fn read_refresh(env: &Reader<'_>) -> Result<RefreshLifetimes, ConfigError> {
    let defaults = RefreshLifetimes::default();
    Ok(RefreshLifetimes {
        idle: env.parse("RAMPART_REFRESH_IDLE", defaults.idle, parse_duration)?,
        absolute: env.parse(
            "RAMPART_REFRESH_ABSOLUTE",
            defaults.absolute,
            parse_duration,
        )?,
    })
}

/// Issue 9 items 5 and 7, slow and greedy clients: `RAMPART_HEADER_READ_TIMEOUT`,
/// `RAMPART_KEEP_ALIVE_TIMEOUT`, `RAMPART_MAX_CONNECTIONS`.
fn read_connections(env: &Reader<'_>) -> Result<ConnectionLimits, ConfigError> {
    let defaults = ConnectionLimits::default();
    Ok(ConnectionLimits {
        header_read_timeout: env.parse(
            "RAMPART_HEADER_READ_TIMEOUT",
            defaults.header_read_timeout,
            duration_within(Duration::from_secs(1), Duration::from_secs(300)),
        )?,
        keep_alive_timeout: env.parse(
            "RAMPART_KEEP_ALIVE_TIMEOUT",
            defaults.keep_alive_timeout,
            duration_within(Duration::from_secs(1), Duration::from_secs(3600)),
        )?,
        max_connections: env.parse("RAMPART_MAX_CONNECTIONS", defaults.max_connections, |v| {
            v.parse().ok().filter(|n| (1..=1_000_000).contains(n))
        })?,
    })
}

/// `RAMPART_JOB_CONCURRENCY` (`4`, or `4,mail=8,exports=2`), `RAMPART_JOB_LEASE`,
/// `RAMPART_JOB_SHUTDOWN_GRACE`, `RAMPART_JOB_MAX_DELIVERIES`, `RAMPART_JOB_DEAD_RETENTION`,
/// `RAMPART_JOB_DEAD_MAX`.
fn read_jobs(env: &Reader<'_>) -> Result<WorkerSettings, ConfigError> {
    let defaults = WorkerSettings::default();
    let (concurrency, per_queue) = env.parse(
        "RAMPART_JOB_CONCURRENCY",
        (defaults.concurrency, defaults.per_queue.clone()),
        parse_concurrency,
    )?;
    Ok(WorkerSettings {
        concurrency,
        per_queue,
        lease: env.parse(
            "RAMPART_JOB_LEASE",
            defaults.lease,
            duration_within(Duration::from_secs(1), Duration::from_secs(3600)),
        )?,
        shutdown_grace: env.parse(
            "RAMPART_JOB_SHUTDOWN_GRACE",
            defaults.shutdown_grace,
            duration_within(Duration::ZERO, Duration::from_secs(3600)),
        )?,
        max_deliveries: env.parse("RAMPART_JOB_MAX_DELIVERIES", defaults.max_deliveries, |v| {
            v.parse().ok().filter(|n| (1..=1000).contains(n))
        })?,
        dead_retention: env.parse(
            "RAMPART_JOB_DEAD_RETENTION",
            defaults.dead_retention,
            duration_within(Duration::from_secs(60), Duration::from_secs(3650 * 86_400)),
        )?,
        dead_max: env.parse("RAMPART_JOB_DEAD_MAX", defaults.dead_max, |v| {
            v.parse().ok().filter(|n| (1..=10_000_000).contains(n))
        })?,
        ..defaults
    })
}

/// `4` or `4,mail=8,exports=2`: a default and per-queue counts, each in `1..=1024`.
fn parse_concurrency(text: &str) -> Option<(usize, std::collections::BTreeMap<String, usize>)> {
    let count = |v: &str| {
        v.trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1024).contains(n))
    };
    let mut default = WorkerSettings::default().concurrency;
    let mut per_queue = std::collections::BTreeMap::new();
    for part in text.split(',') {
        match part.split_once('=') {
            Some((queue, value)) => {
                let queue = queue.trim();
                let valid = !queue.is_empty()
                    && queue.len() <= 64
                    && queue.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                    });
                if !valid || per_queue.insert(queue.to_owned(), count(value)?).is_some() {
                    return None;
                }
            }
            None => default = count(part)?,
        }
    }
    Some((default, per_queue))
}
