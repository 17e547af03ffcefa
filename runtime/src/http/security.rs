//! Layer 4: CORS from configuration and security headers.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request, header};
use axum::response::Response;
use tower::{Layer, Service};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::request_id::REQUEST_ID_HEADER;

/// CORS settings. Origins are explicit; `*` is refused together with credentials.
#[derive(Debug, Clone, Default)]
pub struct CorsConfig {
    /// Allowed origins (`https://app.example.com`); empty means no CORS headers at all.
    pub origins: Vec<String>,
    /// Whether browsers may send cookies/credentials.
    pub allow_credentials: bool,
}

/// Builds the CORS layer, or `None` when no origin is configured (same-origin only).
pub fn cors_layer(config: &CorsConfig) -> Result<Option<CorsLayer>, String> {
    if config.origins.is_empty() {
        return Ok(None);
    }
    let any = config.origins.iter().any(|o| o == "*");
    if any && config.allow_credentials {
        return Err("CORS: `*` cannot be combined with credentials; list the origins".to_owned());
    }
    let origin = if any {
        AllowOrigin::any()
    } else {
        let mut values = Vec::with_capacity(config.origins.len());
        for origin in &config.origins {
            values.push(
                HeaderValue::from_str(origin)
                    .map_err(|_| format!("CORS: invalid origin `{origin}`"))?,
            );
        }
        AllowOrigin::list(values)
    };
    let mut layer = CorsLayer::new()
        .allow_origin(origin)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            REQUEST_ID_HEADER,
            HeaderName::from_static("x-api-key"),
        ])
        .expose_headers([
            REQUEST_ID_HEADER,
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            HeaderName::from_static("ratelimit"),
            HeaderName::from_static("ratelimit-policy"),
        ])
        .max_age(Duration::from_secs(600));
    if config.allow_credentials {
        layer = layer.allow_credentials(true);
    }
    Ok(Some(layer))
}

/// Sets `X-Content-Type-Options: nosniff` everywhere and `Cache-Control: no-store` on responses
/// to requests that carried credentials, so no cache keeps a user's data. No `Server` header is
/// ever written.
#[derive(Clone, Copy, Debug, Default)]
pub struct SecurityHeadersLayer;

impl<S> Layer<S> for SecurityHeadersLayer {
    type Service = SecurityHeadersService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        SecurityHeadersService { inner }
    }
}

/// The service of [`SecurityHeadersLayer`].
#[derive(Clone, Debug)]
pub struct SecurityHeadersService<S> {
    inner: S,
}

impl<S> Service<Request<Body>> for SecurityHeadersService<S>
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
        let credentials = request.headers().contains_key(header::AUTHORIZATION)
            || request.headers().contains_key("x-api-key");
        let future = self.inner.call(request);
        Box::pin(async move {
            let Ok(mut response) = future.await;
            let headers = response.headers_mut();
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            headers.remove(header::SERVER);
            if credentials && !headers.contains_key(header::CACHE_CONTROL) {
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            }
            Ok(response)
        })
    }
}
