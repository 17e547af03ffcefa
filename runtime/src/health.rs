//! Operational endpoints: `/health/live`, `/health/ready`, `/metrics`.

use axum::Extension;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::App;
use crate::auth::Access;
use crate::endpoint::EndpointDef;
use crate::error::ApiError;
use crate::response::{ApiResult, EndpointOutput};

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

async fn ready(Extension(app): Extension<App>) -> Response {
    let result: ApiResult<HealthStatus> = async {
        if app.is_shutting_down() {
            return Err(ApiError::unavailable(5).with_message("shutting down"));
        }
        if let Some(db) = app.db() {
            db.ping().await?;
        }
        if let Some(redis) = app.redis()
            && let Err(error) = redis.ping().await
        {
            tracing::warn!(error = %error, "readiness: Redis unavailable");
            return Err(ApiError::unavailable(2).with_message("a dependency is unavailable"));
        }
        Ok(HealthStatus { status: "ok" })
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
        rate_limit: None,
        errors: &[],
        handler: on(MethodFilter::GET, live),
        document: |doc| doc.success::<ApiResult<HealthStatus>>(),
    }
}

/// `GET /health/ready`: the database answers and the app is not shutting down.
pub fn ready_endpoint() -> EndpointDef {
    EndpointDef {
        method: Method::GET,
        path: "/health/ready",
        prefixed: false,
        operation_id: "health_ready",
        summary: Some("Readiness: the database answers and the app is not draining."),
        description: Some(
            "503 while the database is unreachable or the app is shutting down, so load balancers drain it.",
        ),
        tags: &["health"],
        deprecated: false,
        access: Access::Public,
        body_limit: None,
        timeout: None,
        rate_limit: None,
        errors: &[],
        handler: on(MethodFilter::GET, ready),
        document: |doc| doc.success::<ApiResult<HealthStatus>>(),
    }
}

/// `GET /metrics`: Prometheus text exposition. With `METRICS_TOKEN` configured, only for
/// `Authorization: Bearer <token>` (compared in constant time); anything else is a 401.
pub(crate) async fn metrics(
    Extension(app): Extension<App>,
    headers: axum::http::HeaderMap,
) -> Response {
    if let Some(expected) = &app.config().metrics_token {
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
    if let Some(db) = app.db() {
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
