//! `Api`: mount endpoints, get a plain axum `Router` with the whole pipeline around them.
//!
//! This list is the one statement of the pipeline's order. Outermost first (asserted pair by
//! pair by `pipeline::the_whole_pipeline_order` in `tests/api/pipeline.rs`, except the per-endpoint
//! timeout's place before authentication, which no request can observe from outside):
//!
//! 1. request id (and the envelope safety net)
//! 2. access log and metrics
//! 3. panic recovery
//! 4. CORS, security headers, `Host` validation (an HTTP/1.1 request without exactly one valid
//!    `Host` is a 400)
//! 5. load shedding (`/health/live` and `/health/ready` are not counted and never shed), then the
//!    coarse per-IP limit (which does not count the health endpoints either)
//!
//! Then per endpoint: timeout → authentication + authorization → in-flight cap per principal
//! (per client IP when anonymous; not on the health endpoints) → rate limit → body guard
//! (declared `Content-Length`, body limit, body deadline) → handler.
//! The endpoint's rate limit (when declared) sits between authorization and the body guard,
//! so it counts authenticated users by id and never reads a body first.
//!
//! Below the pipeline, the server ([`crate::server`]) bounds connections: header read and
//! keep-alive timeouts, and a cap on open connections.

use std::collections::{BTreeMap, HashSet};

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Extension, Router};
use utoipa::openapi::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::app::App;
use crate::auth::{Access, AccessLayer, Requirement, Schemes};
use crate::endpoint::{Endpoint, EndpointDef};
use crate::error::ApiError;
use crate::health::HEALTH_PATHS;
use crate::http::{
    BodyGuardLayer, CatchPanicLayer, HostCheckLayer, InFlightLayer, LoadShedLayer,
    SecurityHeadersLayer, TimeoutLayer, cors_layer,
};
use crate::observability::AccessLogLayer;
use crate::openapi::{ApiInfo, build_document};
use crate::rate_limit::{IpThrottleLayer, RateLimitLayer, Throttle};
use crate::request_id::RequestIdLayer;
use tower::util::option_layer;

/// A mistake in how endpoints were mounted; found before the server starts.
#[derive(Debug, thiserror::Error)]
pub enum ApiBuildError {
    /// Two endpoints share an operation id.
    #[error(
        "operation id `{0}` is used by two endpoints; set `operation_id = \"...\"` on one of them"
    )]
    DuplicateOperationId(String),
    /// Two endpoints share a method and path.
    #[error("`{0} {1}` is mounted twice")]
    DuplicateRoute(String, String),
    /// A rate limit that forms no quota.
    #[error("the rate limit of `{0}` cannot be used")]
    RateLimit(String),
    /// The CORS configuration cannot be used.
    #[error("{0}")]
    Cors(String),
    /// Endpoints take `Dep<T>` and the app registers no `T`: the first such argument here,
    /// every further one in `also`, so that one failed start lists them all.
    #[error(
        "{}",
        crate::dependency::describe_unregistered(type_name, operation_id, also)
    )]
    MissingDependency {
        /// Every further unregistered `Dep<T>`, in mount order.
        also: Vec<crate::dependency::UnregisteredDep>,
        /// The type nobody registered, as the compiler writes it.
        type_name: &'static str,
        /// The endpoint that needs it.
        operation_id: &'static str,
    },
}

/// The API of an app: its endpoints under a version prefix, and the document describing them.
#[derive(Debug)]
pub struct Api {
    prefix: String,
    info: ApiInfo,
    endpoints: Vec<EndpointDef>,
    /// Plain axum routes that require authentication (`merge`).
    extra: Option<Router>,
    /// Plain axum routes declared public on purpose (`merge_public`).
    extra_public: Option<Router>,
    rbac: Option<&'static crate::auth::RbacTable>,
}

impl Default for Api {
    fn default() -> Self {
        Self::new()
    }
}

impl Api {
    /// An API under `/api/v1` with the health endpoints.
    pub fn new() -> Self {
        Self {
            prefix: "/api/v1".to_owned(),
            info: ApiInfo {
                title: "rampart API".to_owned(),
                version: "0.1.0".to_owned(),
                description: None,
                license: None,
                tags: vec![(
                    "health".to_owned(),
                    "Liveness and readiness for load balancers and orchestrators.".to_owned(),
                )],
            },
            endpoints: vec![
                crate::health::live_endpoint(),
                crate::health::ready_endpoint(),
            ],
            extra: None,
            extra_public: None,
            rbac: None,
        }
    }

    /// The app's RBAC table (`rampart::rbac!()`), for framework endpoints that check role
    /// names arriving in requests (identity's role changes) or grant roles (registration).
    /// Handlers read it with the [`crate::auth::Roles`] extractor.
    pub fn roles(mut self, table: &'static crate::auth::RbacTable) -> Self {
        self.rbac = Some(table);
        self
    }

    /// Replaces the version prefix (`/api/v2`, or `""` for none).
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.trim_end_matches('/').to_owned();
        self
    }

    /// Sets `info.title` and `info.version` of the document.
    pub fn info(mut self, title: &str, version: &str) -> Self {
        self.info.title = title.to_owned();
        self.info.version = version.to_owned();
        self
    }

    /// Sets `info.license` to an SPDX expression (`"MIT OR Apache-2.0"`).
    pub fn license(mut self, spdx: &str) -> Self {
        self.info.license = Some(spdx.to_owned());
        self
    }

    /// Describes a tag (shown as a section heading by documentation tools).
    pub fn tag(mut self, name: &str, description: &str) -> Self {
        self.info.tags.retain(|(tag, _)| tag != name);
        self.info
            .tags
            .push((name.to_owned(), description.to_owned()));
        self
    }

    /// Sets `info.description`.
    pub fn description(mut self, description: &str) -> Self {
        self.info.description = Some(description.to_owned());
        self
    }

    /// The mounted endpoints with their full paths (for tools and tests that walk the API).
    pub fn endpoints(&self) -> Vec<(String, &EndpointDef)> {
        self.endpoints
            .iter()
            .map(|def| (self.full_path(def), def))
            .collect()
    }

    /// Mounts an `#[endpoint]`.
    pub fn mount(mut self, endpoint: impl Endpoint) -> Self {
        self.endpoints.push(endpoint.definition());
        self
    }

    /// Mounts the CRUD endpoints of a `#[resource(endpoints(...))]`.
    pub fn resource<R: crate::resource::ResourceEndpoints>(self) -> Self {
        R::mount(self)
    }

    /// Adds plain axum routes that run inside the same pipeline (not documented). Like an
    /// `#[endpoint]` that says nothing about access, they require authentication (a JWT or an
    /// API key; any role) and get the default request timeout; a handler reads the caller with
    /// `Ctx`. Routes meant for anonymous callers go through [`Api::merge_public`].
    pub fn merge(mut self, router: Router) -> Self {
        self.extra = Some(self.extra.unwrap_or_default().merge(router));
        self
    }

    /// Adds plain axum routes that anyone may call, without credentials: the explicit opt-out
    /// from authentication, the counterpart of `#[endpoint(public)]`.
    pub fn merge_public(mut self, router: Router) -> Self {
        self.extra_public = Some(self.extra_public.unwrap_or_default().merge(router));
        self
    }

    fn full_path(&self, def: &EndpointDef) -> String {
        if def.prefixed {
            format!("{}{}", self.prefix, def.path)
        } else {
            def.path.to_owned()
        }
    }

    /// The OpenAPI 3.1 document of the mounted endpoints.
    pub fn openapi(&self) -> OpenApi {
        let endpoints: Vec<(String, &EndpointDef)> = self
            .endpoints
            .iter()
            .map(|def| (self.full_path(def), def))
            .collect();
        build_document(&self.info, &endpoints)
    }

    /// The OpenAPI document as JSON: what `/openapi.json` serves and what tools should read.
    /// Prefer it to serializing [`Api::openapi`] yourself (see [`crate::openapi::to_json`]).
    pub fn openapi_json(&self) -> serde_json::Value {
        crate::openapi::to_json(&self.openapi())
    }

    fn check(&self) -> Result<(), ApiBuildError> {
        let mut ids = HashSet::new();
        let mut routes = HashSet::new();
        for def in &self.endpoints {
            if !ids.insert(def.operation_id) {
                return Err(ApiBuildError::DuplicateOperationId(
                    def.operation_id.to_owned(),
                ));
            }
            let path = self.full_path(def);
            if !routes.insert((def.method.clone(), path.clone())) {
                return Err(ApiBuildError::DuplicateRoute(def.method.to_string(), path));
            }
        }
        Ok(())
    }

    /// Every `Dep<T>` an endpoint takes is registered on the app (typed dependencies: a
    /// forgotten one fails here, at start-up, rather than at the first request).
    fn check_dependencies(&self, app: &App) -> Result<(), ApiBuildError> {
        let mut unregistered: Vec<crate::dependency::UnregisteredDep> = Vec::new();
        for def in &self.endpoints {
            for key in def.dependencies() {
                let missing = crate::dependency::UnregisteredDep {
                    type_name: key.type_name(),
                    operation_id: def.operation_id,
                };
                if !app.dependencies().contains(key) && !unregistered.contains(&missing) {
                    unregistered.push(missing);
                }
            }
        }
        if unregistered.is_empty() {
            return Ok(());
        }
        let first = unregistered.remove(0);
        Err(ApiBuildError::MissingDependency {
            type_name: first.type_name,
            operation_id: first.operation_id,
            also: unregistered,
        })
    }

    /// The router: every endpoint with its own layers, the operational routes, and the global
    /// pipeline around all of it.
    pub fn into_router(self, app: &App) -> Result<Router, ApiBuildError> {
        self.check()?;
        self.check_dependencies(app)?;
        let config = app.config();
        let cors = cors_layer(&config.cors).map_err(ApiBuildError::Cors)?;
        let document = self.openapi_json();
        let mut by_path: BTreeMap<String, Vec<EndpointDef>> = BTreeMap::new();
        let prefix = self.prefix.clone();
        for def in self.endpoints {
            let path = if def.prefixed {
                format!("{prefix}{}", def.path)
            } else {
                def.path.to_owned()
            };
            by_path.entry(path).or_default().push(def);
        }
        let trusted_proxies: std::sync::Arc<[ipnet::IpNet]> = config.trusted_proxies.clone().into();
        let ip_throttle = match config.ip_rate_limit {
            Some(spec) => Some(
                IpThrottleLayer::new(
                    Throttle::new(
                        "ip",
                        spec.scaled(config.rate_limit_multiplier),
                        app.redis().cloned(),
                    )
                    .ok_or_else(|| ApiBuildError::RateLimit("RAMPART_IP_RATE_LIMIT".to_owned()))?,
                    trusted_proxies.clone(),
                )
                .exempt(HEALTH_PATHS.iter().map(|path| (*path).to_owned())),
            ),
            None => None,
        };
        let in_flight =
            InFlightLayer::new(config.max_in_flight_per_principal, trusted_proxies.clone());
        let mut router = Router::new();
        for (path, defs) in by_path {
            let mut combined = axum::routing::MethodRouter::new();
            let health = HEALTH_PATHS.contains(&path.as_str());
            for def in defs {
                // Innermost first: body guard, rate limit, in-flight cap, access, timeout.
                // `route_layer`, so that a method the path does not have is a 405 for everyone,
                // before authentication (found by the API9 inventory test: it was the
                // endpoint's 401/403).
                let body_limit = def.body_limit.unwrap_or(config.body_limit);
                let body_timeout = def.body_timeout.unwrap_or(config.body_read_timeout);
                let mut handler = def
                    .handler
                    .route_layer(DefaultBodyLimit::max(body_limit))
                    .route_layer(BodyGuardLayer::new(body_limit, body_timeout));
                if let Some(spec) = def.rate_limit {
                    let spec = spec.scaled(config.rate_limit_multiplier);
                    let layer = RateLimitLayer::new(
                        spec,
                        def.operation_id,
                        trusted_proxies.clone(),
                        app.redis().cloned(),
                    )
                    .ok_or_else(|| ApiBuildError::RateLimit(def.operation_id.to_owned()))?;
                    handler = handler.route_layer(layer);
                }
                if !health {
                    handler = handler.route_layer(in_flight.clone());
                }
                // The timeout covers the whole request, body included, and the body deadline
                // ends no later. An endpoint that declares a body deadline longer than its
                // timeout (large uploads) gets both in all.
                let timeout = def.timeout.unwrap_or(config.request_timeout);
                let timeout = match def.body_timeout {
                    Some(declared) if declared >= timeout => declared.saturating_add(timeout),
                    _ => timeout,
                };
                let handler = handler
                    .route_layer(AccessLayer::new(def.access, app.keys().clone()))
                    .route_layer(TimeoutLayer::new(timeout));
                combined = combined.merge(handler);
            }
            router = router.route(&path, combined);
        }
        // In production only behind METRICS_TOKEN; never when it has its own listener
        // (`observability::serve_metrics`).
        if config.metrics_on_main_listener() {
            router = router.route("/metrics", get(crate::health::metrics));
        }
        if config.docs {
            router = router
                .merge(SwaggerUi::new("/docs").external_url_unchecked("/openapi.json", document));
        }
        // Merged routes get the per-endpoint layers of a declared endpoint with default options,
        // innermost first: body guard (limit and deadline), in-flight cap, access (authentication
        // unless merged with `merge_public`), timeout. `route_layer`, so that an unknown path
        // stays a 404 rather than a 401 (and `route_layer` refuses a router without routes,
        // hence the `Option`s).
        let defaults = |extra: Router, access: Access| {
            extra
                .route_layer(DefaultBodyLimit::max(config.body_limit))
                .route_layer(BodyGuardLayer::new(
                    config.body_limit,
                    config.body_read_timeout,
                ))
                .route_layer(in_flight.clone())
                .route_layer(AccessLayer::new(access, app.keys().clone()))
                .route_layer(TimeoutLayer::new(config.request_timeout))
        };
        if let Some(extra) = self.extra {
            let access = Access::Protected {
                schemes: Schemes::Any,
                requirement: Requirement::Authenticated,
            };
            router = router.merge(defaults(extra, access));
        }
        if let Some(extra) = self.extra_public {
            router = router.merge(defaults(extra, Access::Public));
        }
        router = router.fallback(|| async { ApiError::not_found() });
        if let Some(db) = app.db() {
            router = router.layer(Extension(db.clone()));
        }
        // Typed dependencies, read by the `Dep<T>` extractor; none registered, no layer.
        if !app.dependencies().is_empty() {
            router = router.layer(Extension(app.dependencies().clone()));
        }
        if let Some(table) = self.rbac {
            router = router.layer(Extension(crate::auth::Roles(table)));
        }
        router = router
            .layer(Extension(crate::extract::ApiPrefix(prefix.as_str().into())))
            .layer(Extension(crate::health::ProbeCache::default()))
            // Each part of the app for what needs it (identity's handlers, the store, the
            // operational endpoints, `ClientIp`); the whole app for handlers that ask for it.
            .layer(Extension(app.identity().clone()))
            .layer(Extension(app.cursor_key().clone()))
            .layer(Extension(app.health().clone()))
            .layer(Extension(crate::extract::TrustedProxies(
                trusted_proxies.clone(),
            )))
            .layer(Extension(app.clone()))
            // 5b: the coarse per-IP limit, inside load shedding, before any authentication.
            .layer(option_layer(ip_throttle))
            .layer(
                LoadShedLayer::new(config.max_concurrency)
                    .exempt(HEALTH_PATHS.iter().map(|path| (*path).to_owned())),
            )
            .layer(HostCheckLayer)
            .layer(SecurityHeadersLayer);
        if let Some(cors) = cors {
            router = router.layer(cors);
        }
        // `with_state(())` turns every handler into its route once, here; a router used directly
        // as a service (tests, `oneshot`) would otherwise convert them on every request.
        Ok(router
            .layer(CatchPanicLayer)
            .layer(AccessLogLayer)
            .layer(RequestIdLayer)
            .with_state(()))
    }
}
