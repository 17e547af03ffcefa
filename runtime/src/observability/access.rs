//! Layer 2: one access-log line and one metrics sample per request.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::MatchedPath;
use std::cell::RefCell;
use std::collections::HashMap;

use axum::http::{Method, Request};
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
        let method = method_label(request.method());
        let route = request.extensions().get::<MatchedPath>().cloned();
        let request_id = request.extensions().get::<RequestId>().cloned();
        let span = tracing::info_span!(
            "request",
            request_id = request_id.as_ref().map_or("", |id| id.as_str()),
            method,
            route = route.as_ref().map_or(UNMATCHED_ROUTE, |r| r.as_str()),
            user_id = tracing::field::Empty,
        );
        let future = self.inner.call(request).instrument(span.clone());
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
            let route_label = route.as_ref().map_or(UNMATCHED_ROUTE, |r| r.as_str());
            record_metrics(
                method,
                route_label,
                status,
                elapsed.as_secs_f64(),
                &response,
            );
            Ok(response)
        })
    }
}

/// The method as a metrics label: the known methods, else `OTHER`, so a client inventing
/// methods cannot grow the label set (or the handle cache) without bound.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Metric handles of one route, looked up once and reused: building label sets and looking
/// them up in the registry on every request was a measurable part of the pipeline's cost.
#[derive(Default)]
struct RouteHandles {
    requests: Vec<(&'static str, u16, metrics::Counter)>,
    durations: Vec<(&'static str, metrics::Histogram)>,
    errors: Vec<(&'static str, ErrorCode, metrics::Counter)>,
}

thread_local! {
    // Keyed by route template: a bounded set (templates plus `unmatched`).
    static HANDLES: RefCell<HashMap<Box<str>, RouteHandles>> = RefCell::new(HashMap::new());
}

fn record_metrics(
    method: &'static str,
    route: &str,
    status: u16,
    seconds: f64,
    response: &Response,
) {
    let code = (status >= 400).then(|| {
        response
            .extensions()
            .get::<ErrorCode>()
            .copied()
            .unwrap_or_else(|| ErrorCode::for_status(response.status()))
    });
    HANDLES.with(|cell| {
        let Ok(mut handles) = cell.try_borrow_mut() else {
            return;
        };
        if !handles.contains_key(route) {
            handles.insert(Box::from(route), RouteHandles::default());
        }
        let Some(route_handles) = handles.get_mut(route) else {
            return;
        };
        let owned_route = || route.to_owned();
        match route_handles
            .requests
            .iter()
            .find(|(m, s, _)| *m == method && *s == status)
        {
            Some((_, _, counter)) => counter.increment(1),
            None => {
                let labels = [
                    ("method", method.to_owned()),
                    ("route", owned_route()),
                    ("status", status.to_string()),
                ];
                let counter = metrics::counter!("http_requests_total", &labels);
                counter.increment(1);
                route_handles.requests.push((method, status, counter));
            }
        }
        match route_handles.durations.iter().find(|(m, _)| *m == method) {
            Some((_, histogram)) => histogram.record(seconds),
            None => {
                let labels = [("method", method.to_owned()), ("route", owned_route())];
                let histogram = metrics::histogram!("http_request_duration_seconds", &labels);
                histogram.record(seconds);
                route_handles.durations.push((method, histogram));
            }
        }
        if let Some(code) = code {
            match route_handles
                .errors
                .iter()
                .find(|(m, c, _)| *m == method && *c == code)
            {
                Some((_, _, counter)) => counter.increment(1),
                None => {
                    let labels = [
                        ("method", method.to_owned()),
                        ("route", owned_route()),
                        ("code", code.as_str().to_owned()),
                    ];
                    let counter = metrics::counter!("http_errors_total", &labels);
                    counter.increment(1);
                    route_handles.errors.push((method, code, counter));
                }
            }
        }
    });
}
