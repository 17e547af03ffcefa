//! Layer 2: one access-log line and one metrics sample per request.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::Request;
use axum::response::Response;
use tower::{Layer, Service};
use tracing::Instrument;

use crate::auth::AuthenticatedUser;
use crate::error::ErrorCode;
use crate::request_id::RequestId;

/// Route label of requests that matched no route: never the raw path (unbounded cardinality,
/// and paths can carry data).
const UNMATCHED_ROUTE: &str = "unmatched";

/// Layer 2: opens the `request` span (request id, method, route template) and, at completion,
/// logs `request completed` with status, user id and duration, and records the metrics.
#[derive(Clone, Copy, Debug, Default)]
pub struct AccessLogLayer;

impl<S> Layer<S> for AccessLogLayer {
    type Service = AccessLogService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        AccessLogService { inner }
    }
}

/// The service of [`AccessLogLayer`].
#[derive(Clone, Debug)]
pub struct AccessLogService<S> {
    inner: S,
}

impl<S> Service<Request<Body>> for AccessLogService<S>
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
        let started = Instant::now();
        let method = request.method().clone();
        let route = request.extensions().get::<MatchedPath>().cloned();
        let route_label = route
            .as_ref()
            .map_or(UNMATCHED_ROUTE, |r| r.as_str())
            .to_owned();
        let request_id = request.extensions().get::<RequestId>().cloned();
        let span = tracing::info_span!(
            "request",
            request_id = request_id.as_ref().map_or("", |id| id.as_str()),
            method = method.as_str(),
            route = route_label.as_str(),
            user_id = tracing::field::Empty,
        );
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let future = inner.call(request).instrument(span.clone());
        Box::pin(async move {
            let Ok(response) = future.await;
            let elapsed = started.elapsed();
            let status = response.status().as_u16();
            if let Some(AuthenticatedUser(user)) = response.extensions().get::<AuthenticatedUser>()
            {
                span.record("user_id", tracing::field::display(user));
            }
            let duration_ms = elapsed.as_secs_f64() * 1000.0;
            span.in_scope(|| {
                tracing::info!(target: "rampart::access", status, duration_ms, "request completed");
            });
            record_metrics(
                method.as_str(),
                &route_label,
                status,
                elapsed.as_secs_f64(),
                &response,
            );
            Ok(response)
        })
    }
}

fn record_metrics(method: &str, route: &str, status: u16, seconds: f64, response: &Response) {
    let labels = [
        ("method", method.to_owned()),
        ("route", route.to_owned()),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!(
        "http_request_duration_seconds",
        &[("method", method.to_owned()), ("route", route.to_owned())]
    )
    .record(seconds);
    if status >= 400 {
        let code = response
            .extensions()
            .get::<ErrorCode>()
            .copied()
            .unwrap_or_else(|| ErrorCode::for_status(response.status()));
        metrics::counter!(
            "http_errors_total",
            &[
                ("method", method.to_owned()),
                ("route", route.to_owned()),
                ("code", code.as_str().to_owned())
            ]
        )
        .increment(1);
    }
}
