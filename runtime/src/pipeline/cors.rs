//! Layer 4: CORS from configuration (tower-http's layer, between panic recovery and the
//! security headers).

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::context::REQUEST_ID_HEADER;

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
