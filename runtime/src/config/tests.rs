//! Reading the configuration from a map of variables.

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
    use crate::health::SharedDependency;
    let named = config(&[
        ("RAMPART_READINESS_REQUIRES", "database, redis"),
        ("REDIS_URL", "redis://127.0.0.1:6379"),
    ])
    .map(|c| c.readiness_requires);
    assert_eq!(
        named.ok(),
        Some(vec![SharedDependency::Database, SharedDependency::Redis])
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
fn read_your_writes_window_is_read_and_bounded() {
    let defaults = config(&[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(defaults.database.read_your_writes, Duration::from_secs(5));
    let set = config(&[("RAMPART_READ_YOUR_WRITES", "1500ms")]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.database.read_your_writes, Duration::from_millis(1500));
    let off = config(&[("RAMPART_READ_YOUR_WRITES", "0s")]).unwrap_or_else(|e| panic!("{e}"));
    assert!(off.database.read_your_writes.is_zero());
    for value in ["2h", "soon", "-1s"] {
        assert!(
            config(&[("RAMPART_READ_YOUR_WRITES", value)]).is_err(),
            "RAMPART_READ_YOUR_WRITES={value}"
        );
    }
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

#[test]
fn job_settings_are_read_and_bounded() {
    let jobs = config(&[
        ("RAMPART_JOB_CONCURRENCY", "3,mail=8, exports=2"),
        ("RAMPART_JOB_LEASE", "45s"),
        ("RAMPART_JOB_SHUTDOWN_GRACE", "0s"),
        ("RAMPART_JOB_MAX_DELIVERIES", "3"),
        ("RAMPART_JOB_DEAD_RETENTION", "7d"),
        ("RAMPART_JOB_DEAD_MAX", "500"),
    ])
    .map(|c| c.jobs);
    let jobs = jobs.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(jobs.concurrency, 3);
    assert_eq!(jobs.per_queue.get("mail"), Some(&8));
    assert_eq!(jobs.per_queue.get("exports"), Some(&2));
    assert_eq!(jobs.lease, Duration::from_secs(45));
    assert_eq!(jobs.shutdown_grace, Duration::ZERO);
    assert_eq!(jobs.max_deliveries, 3);
    assert_eq!(jobs.dead_retention, Duration::from_secs(7 * 86_400));
    assert_eq!(jobs.dead_max, 500);
    let defaults = config(&[])
        .map(|c| c.jobs)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (defaults.concurrency, defaults.lease),
        (4, Duration::from_secs(30))
    );
    assert_eq!(
        (
            defaults.max_deliveries,
            defaults.dead_retention,
            defaults.dead_max
        ),
        (5, Duration::from_secs(30 * 86_400), 10_000)
    );
    for (variable, value) in [
        ("RAMPART_JOB_CONCURRENCY", "0"),
        ("RAMPART_JOB_CONCURRENCY", "mail=0"),
        ("RAMPART_JOB_CONCURRENCY", "Mail=2"),
        ("RAMPART_JOB_CONCURRENCY", "mail=2,mail=3"),
        ("RAMPART_JOB_CONCURRENCY", "2000"),
        ("RAMPART_JOB_LEASE", "500ms"),
        ("RAMPART_JOB_SHUTDOWN_GRACE", "2h"),
        ("RAMPART_JOB_MAX_DELIVERIES", "0"),
        ("RAMPART_JOB_MAX_DELIVERIES", "1001"),
        ("RAMPART_JOB_MAX_DELIVERIES", "five"),
        ("RAMPART_JOB_DEAD_RETENTION", "30s"),
        ("RAMPART_JOB_DEAD_RETENTION", "forever"),
        ("RAMPART_JOB_DEAD_MAX", "0"),
        ("RAMPART_JOB_DEAD_MAX", "-1"),
    ] {
        assert!(config(&[(variable, value)]).is_err(), "{variable}={value}");
    }
}

#[test]
fn idempotency_settings_are_read_and_bounded() {
    use crate::idempotency::StoreChoice;
    let defaults = config(&[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(defaults.idempotency_ttl, Duration::from_secs(24 * 3600));
    assert_eq!(defaults.idempotency_store, None);
    let set = config(&[
        ("RAMPART_IDEMPOTENCY_TTL", "1h"),
        ("RAMPART_IDEMPOTENCY_STORE", "database"),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.idempotency_ttl, Duration::from_secs(3600));
    assert_eq!(set.idempotency_store, Some(StoreChoice::Database));
    let redis = config(&[
        ("RAMPART_IDEMPOTENCY_STORE", "redis"),
        ("REDIS_URL", "redis://127.0.0.1:6379"),
    ])
    .map(|c| c.idempotency_store);
    assert_eq!(redis.ok(), Some(Some(StoreChoice::Redis)));
    for vars in [
        &[("RAMPART_IDEMPOTENCY_TTL", "500ms")][..],
        &[("RAMPART_IDEMPOTENCY_TTL", "31d")],
        &[("RAMPART_IDEMPOTENCY_STORE", "memory")],
        // Redis named without a Redis to use.
        &[("RAMPART_IDEMPOTENCY_STORE", "redis")],
    ] {
        assert!(config(vars).is_err(), "{vars:?}");
    }
}
