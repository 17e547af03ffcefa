//! Operational endpoints: `/health/live`, `/health/ready`, `/metrics`.

use axum::Extension;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};
use serde::Serialize;
use utoipa::ToSchema;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::auth::Access;
use crate::db::Db;
use crate::endpoint::EndpointDef;
use crate::error::ApiError;
use crate::rate_limit::RedisStore;
use crate::response::{ApiResult, EndpointOutput};

/// Whether this instance is draining (shutdown has begun): readiness answers 503 from then on.
/// Shared by every clone; the server sets it, readiness reads it.
#[derive(Clone, Debug, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    /// Marks the instance as draining.
    pub fn begin(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether draining has begun.
    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What the operational endpoints read: the dependencies readiness probes, the ones it
/// requires, the draining flag, and the `/metrics` token. `App` builds it; the endpoints get
/// it as an extension, not the whole app.
#[derive(Clone)]
pub struct HealthState {
    db: Option<Db>,
    redis: Option<RedisStore>,
    requires: Vec<SharedDependency>,
    draining: Draining,
    metrics_token: Option<String>,
}

impl fmt::Debug for HealthState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The token is a credential: whether one is set is all `Debug` shows.
        f.debug_struct("HealthState")
            .field("db", &self.db)
            .field("redis", &self.redis)
            .field("requires", &self.requires)
            .field("draining", &self.draining)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

impl HealthState {
    /// The state over these dependencies.
    pub fn new(
        db: Option<Db>,
        redis: Option<RedisStore>,
        requires: Vec<SharedDependency>,
        draining: Draining,
        metrics_token: Option<String>,
    ) -> Self {
        Self {
            db,
            redis,
            requires,
            draining,
            metrics_token,
        }
    }

    /// The flag readiness reads; the server sets it when shutdown begins.
    pub(crate) fn draining(&self) -> &Draining {
        &self.draining
    }
}

/// Body of the health endpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthStatus {
    /// `ok`.
    pub status: &'static str,
}

async fn live() -> Response {
    let result: ApiResult<HealthStatus> = Ok(HealthStatus { status: "ok" });
    result.into_api_response()
}

/// A shared dependency readiness reports (and fails for, when `RAMPART_READINESS_REQUIRES`
/// names it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedDependency {
    /// The primary database.
    Database,
    /// The read replica.
    Replica,
    /// Redis (shared rate limits).
    Redis,
}

impl SharedDependency {
    /// The name used in the setting, the body and the metric label.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Database => "database",
            Self::Replica => "replica",
            Self::Redis => "redis",
        }
    }

    /// Parses `database,redis`; `None` if a name is unknown.
    pub fn parse_list(text: &str) -> Option<Vec<Self>> {
        let mut list = Vec::new();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let dependency = match name {
                "database" => Self::Database,
                "replica" => Self::Replica,
                "redis" => Self::Redis,
                _ => return None,
            };
            if !list.contains(&dependency) {
                list.push(dependency);
            }
        }
        Some(list)
    }
}

/// Whether a dependency answered the readiness probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DependencyState {
    /// It answered.
    Up,
    /// It did not answer (within a second).
    Down,
}

/// The state of each configured shared dependency; one that is not configured is absent.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DependencyChecks {
    /// The primary database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<DependencyState>,
    /// The read replica (reads fall back to the primary while it is down).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica: Option<DependencyState>,
    /// Redis (rate limits fail open while it is down).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis: Option<DependencyState>,
}

impl DependencyChecks {
    fn get(&self, dependency: SharedDependency) -> Option<DependencyState> {
        match dependency {
            SharedDependency::Database => self.database,
            SharedDependency::Replica => self.replica,
            SharedDependency::Redis => self.redis,
        }
    }
}

/// Body of `/health/ready`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`.
    pub status: &'static str,
    /// What each shared dependency answered.
    pub checks: DependencyChecks,
}

fn state(up: bool) -> DependencyState {
    if up {
        DependencyState::Up
    } else {
        DependencyState::Down
    }
}

/// Probes every configured dependency at once (each within about a second) and publishes
/// `rampart_dependency_up{dependency}`.
async fn probe(health: &HealthState) -> DependencyChecks {
    let database = async {
        match &health.db {
            Some(db) => Some(db.ping().await.is_ok()),
            None => None,
        }
    };
    let replica = async {
        match &health.db {
            Some(db) => db.ping_replica().await,
            None => None,
        }
    };
    let redis = async {
        match &health.redis {
            Some(redis) => Some(match redis.ping().await {
                Ok(()) => true,
                Err(error) => {
                    tracing::warn!(error = %error, "readiness: Redis unavailable");
                    false
                }
            }),
            None => None,
        }
    };
    let (database, replica, redis) = tokio::join!(database, replica, redis);
    for (dependency, up) in [
        (SharedDependency::Database, database),
        (SharedDependency::Replica, replica),
        (SharedDependency::Redis, redis),
    ] {
        if let Some(up) = up {
            metrics::gauge!("rampart_dependency_up", "dependency" => dependency.name())
                .set(if up { 1.0 } else { 0.0 });
        }
    }
    DependencyChecks {
        database: database.map(state),
        replica: replica.map(state),
        redis: redis.map(state),
    }
}

/// The last dependency probe of one router. Readiness is public and outside shedding, so a flood
/// of `/health/ready` must not turn into a flood of pings holding the pool's connections: one
/// probe runs at a time (the lock), and a caller that waited while one ran takes its result
/// (finished after the caller arrived, so never older than the caller's own request).
#[derive(Clone, Debug, Default)]
pub(crate) struct ProbeCache(
    std::sync::Arc<tokio::sync::Mutex<Option<(std::time::Instant, DependencyChecks)>>>,
);

impl ProbeCache {
    async fn checks(&self, health: &HealthState) -> DependencyChecks {
        let arrived = std::time::Instant::now();
        let mut slot = self.0.lock().await;
        if let Some((finished, checks)) = slot.as_ref()
            && *finished >= arrived
        {
            return checks.clone();
        }
        let checks = probe(health).await;
        *slot = Some((std::time::Instant::now(), checks.clone()));
        checks
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for HealthState {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        crate::context::shared::<HealthState>(&parts.extensions)
            .cloned()
            .ok_or_else(|| {
                ApiError::internal(
                    "the health state is missing: build the router with Api::into_router",
                )
            })
    }
}

/// Readiness fails for what is wrong with this instance (draining); shared dependencies are
/// reported, and fail it only when `RAMPART_READINESS_REQUIRES` names them.
async fn ready(health: HealthState, cache: Option<Extension<ProbeCache>>) -> Response {
    let result: ApiResult<Readiness> = async {
        if health.draining.is_draining() {
            return Err(ApiError::unavailable(5).with_message("shutting down"));
        }
        let checks = match cache {
            Some(Extension(cache)) => cache.checks(&health).await,
            None => probe(&health).await,
        };
        let down: Vec<&'static str> = health
            .requires
            .iter()
            .filter(|d| checks.get(**d) != Some(DependencyState::Up))
            .map(|d| d.name())
            .collect();
        if !down.is_empty() {
            let mut error = ApiError::unavailable(2).with_message(format!(
                "a required dependency is unavailable: {}",
                down.join(", ")
            ));
            for name in down {
                error = error.with_detail(name, "down");
            }
            return Err(error);
        }
        Ok(Readiness {
            status: "ready",
            checks,
        })
    }
    .await;
    result.into_api_response()
}

/// `GET /health/live`: the process is up.
pub fn live_endpoint() -> EndpointDef {
    EndpointDef {
        method: Method::GET,
        path: "/health/live",
        prefixed: false,
        operation_id: "health_live",
        summary: Some("Liveness: the process is up."),
        description: None,
        tags: &["health"],
        deprecated: false,
        access: Access::Public,
        body_limit: None,
        timeout: None,
        body_timeout: None,
        rate_limit: None,
        idempotency: None,
        cache: None,
        invalidates: &[],
        errors: &[],
        handler: on(MethodFilter::GET, live),
        document: |doc| doc.success::<ApiResult<HealthStatus>>(),
        deps: &[],
    }
}

/// `GET /health/ready`: the instance is not draining; shared dependencies are reported.
pub fn ready_endpoint() -> EndpointDef {
    EndpointDef {
        method: Method::GET,
        path: "/health/ready",
        prefixed: false,
        operation_id: "health_ready",
        summary: Some("Readiness: this instance can serve (it is not draining)."),
        description: Some(
            "503 while this instance is shutting down, so load balancers drain it. The state of each shared dependency (database, replica, Redis) is in `checks` and in the `rampart_dependency_up` gauge; an outage there does not fail readiness, unless `RAMPART_READINESS_REQUIRES` names the dependency (then 503 naming it). Requests that need a dependency that is down get their own 503 with `Retry-After`.",
        ),
        tags: &["health"],
        deprecated: false,
        access: Access::Public,
        body_limit: None,
        timeout: None,
        body_timeout: None,
        rate_limit: None,
        idempotency: None,
        cache: None,
        invalidates: &[],
        errors: &[],
        handler: on(MethodFilter::GET, ready),
        document: |doc| doc.success::<ApiResult<Readiness>>(),
        deps: &[],
    }
}

/// `GET /metrics`: Prometheus text exposition. With `METRICS_TOKEN` configured, only for
/// `Authorization: Bearer <token>` (compared in constant time); anything else is a 401.
pub(crate) async fn metrics(health: HealthState, headers: axum::http::HeaderMap) -> Response {
    if let Some(expected) = &health.metrics_token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .unwrap_or_default();
        if !crate::identity::api_keys::digests_equal(presented, expected) {
            return ApiError::unauthenticated().into_response();
        }
    }
    if let Some(db) = &health.db {
        db.record_pool_metrics();
    }
    match crate::observability::render_metrics() {
        Some(text) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            text,
        )
            .into_response(),
        None => ApiError::unavailable(60)
            .with_message("metrics are not installed in this process")
            .into_response(),
    }
}
