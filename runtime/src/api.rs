//! `Api`: mount endpoints, get a plain axum `Router` with the whole pipeline around them.
//!
//! The pipeline's order and its layers are in [`crate::pipeline`]; this module mounts the
//! routes and hands each its stack.

use std::collections::{BTreeMap, HashSet};

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use utoipa::openapi::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::app::App;
use crate::auth::{Access, ApiKeyVerifier, Requirement, Schemes};
use crate::endpoint::{Endpoint, EndpointDef};
use crate::error::ApiError;
use crate::openapi::{ApiInfo, build_document};
use crate::pipeline::{self, EndpointSpec, InFlight, cors_layer};
use crate::rate_limit::Throttle;

/// The CRUD endpoints `#[resource(endpoints(...))]` generates; mount them with
/// [`Api::resource`]. Declared here, beside what it mounts into, so that `resource` (which the
/// API builds on) never names `Api`.
pub trait ResourceEndpoints {
    /// Mounts list, get, create, replace, patch and delete.
    fn mount(api: Api) -> Api;
}

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
    /// An endpoint enqueues jobs (`Dep<Jobs>`) and the app declares none.
    #[error(
        "endpoint `{operation_id}` takes `Dep<Jobs>`, but the app declares no jobs: call `App::with_jobs(JobSet::new().job(..))` before building the router"
    )]
    JobsNotDeclared {
        /// The first endpoint that takes the handle.
        operation_id: &'static str,
    },
    /// A `cache(..)` on an endpoint that is not a GET: only reads are cached.
    #[error("endpoint `{0}` has a cache but is not a GET: only reads are cached")]
    CachedWrite(&'static str),
    /// An idempotent endpoint that is public: its records are kept per principal.
    #[error(
        "endpoint `{0}` is idempotent and public: idempotency records are kept per principal, so an idempotent endpoint requires authentication"
    )]
    PublicIdempotent(&'static str),
    /// A job takes `Dep<T>` and the app registers no `T`.
    #[error(
        "job `{job}` takes `Dep<{type_name}>`, which the app does not register: register it with `App::dep(..)`"
    )]
    JobDependency {
        /// The job's name.
        job: &'static str,
        /// The type nobody registered, as the compiler writes it.
        type_name: &'static str,
    },
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
    pub fn resource<R: ResourceEndpoints>(self) -> Self {
        R::mount(self)
    }

    /// Adds plain axum routes that run inside the same pipeline (not documented). Like an
    /// `#[endpoint]` that says nothing about access, they require authentication (a JWT or an
    /// API key; any role) and get the default request timeout; a handler reads the caller with
    /// `Ctx`. Routes meant for anonymous callers go through [`Api::merge_public`]. Give it routers
    /// without fallbacks: a fallback nested inside `router` is not wrapped by the endpoint stack
    /// (so it would run without authentication), and a top-level one is replaced by the API's
    /// 404.
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
        let jobs = crate::dependency::DepKey::of::<crate::jobs::Jobs>();
        for def in &self.endpoints {
            for key in def.dependencies() {
                // The job handle is registered by declaring jobs, not with `App::dep`.
                if key == jobs && !app.dependencies().contains(jobs) {
                    return Err(ApiBuildError::JobsNotDeclared {
                        operation_id: def.operation_id,
                    });
                }
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
            // With the in-process queue this process runs the jobs: they need theirs too, the
            // same start-up failure as the worker's. With Redis it only enqueues, and need not
            // hold what only workers use (a mailer's credentials): the worker checks.
            if let Some(jobs) = app.jobs()
                && jobs.is_in_process()
                && let Some((job, type_name)) =
                    jobs.set().unregistered_dependency(app.dependencies())
            {
                return Err(ApiBuildError::JobDependency { job, type_name });
            }
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
        let trusted_proxies: Arc<[ipnet::IpNet]> = config.trusted_proxies.clone().into();
        let ip_throttle = match config.ip_rate_limit {
            Some(spec) => Some(
                Throttle::new(
                    "ip",
                    spec.scaled(config.rate_limit_multiplier),
                    app.redis().cloned(),
                )
                .ok_or_else(|| ApiBuildError::RateLimit("RAMPART_IP_RATE_LIMIT".to_owned()))?,
            ),
            None => None,
        };
        // Identity verifies API keys against its tables; the pipeline only asks.
        let api_keys = app.db().map(|db| {
            Arc::new(crate::identity::StoredApiKeys::new(db.clone())) as Arc<dyn ApiKeyVerifier>
        });
        let shared = pipeline::Shared {
            keys: app.keys().clone(),
            api_keys,
            in_flight: InFlight::new(config.max_in_flight_per_principal),
            redis: app.redis().cloned(),
            idempotency: crate::idempotency::choose_store(
                config.idempotency_store,
                app.redis(),
                app.db(),
            ),
            cache: app.response_cache().clone(),
        };
        // A shed anonymous GET goes on to the endpoints only when a public one may answer it
        // from its cache.
        let stale_on_shed = by_path
            .values()
            .flatten()
            .any(|def| def.cache.is_some() && matches!(def.access, crate::auth::Access::Public));
        // Only `/health/ready` reads the probe cache: it goes on the health endpoints' requests.
        let probes = crate::health::ProbeCache::default();
        let probe_state: pipeline::StateInserter = Arc::new(move |extensions| {
            extensions.insert(probes.clone());
        });
        let mut router = Router::new();
        for (path, defs) in by_path {
            let mut combined = axum::routing::MethodRouter::new();
            let health = pipeline::is_exempt(&path);
            for def in defs {
                // The timeout covers the whole request, body included, and the body deadline
                // ends no later. An endpoint that declares a body deadline longer than its
                // timeout (large uploads) gets both in all.
                let timeout = def.timeout.unwrap_or(config.request_timeout);
                let timeout = match def.body_timeout {
                    Some(declared) if declared >= timeout => declared.saturating_add(timeout),
                    _ => timeout,
                };
                let spec = EndpointSpec {
                    name: def.operation_id,
                    access: def.access,
                    health,
                    rate_limit: def
                        .rate_limit
                        .map(|spec| spec.scaled(config.rate_limit_multiplier)),
                    body_limit: def.body_limit.unwrap_or(config.body_limit),
                    body_timeout: def.body_timeout.unwrap_or(config.body_read_timeout),
                    timeout,
                    state: health.then(|| probe_state.clone()),
                    idempotency_ttl: def
                        .idempotency
                        .map(|declared| declared.ttl.unwrap_or(config.idempotency_ttl)),
                    cache: def.cache,
                    invalidates: def.invalidates,
                };
                // The macro refuses `cache` on anything but a GET; so is a hand-built one.
                if def.cache.is_some() && def.method != axum::http::Method::GET {
                    return Err(ApiBuildError::CachedWrite(def.operation_id));
                }
                // The macro refuses `idempotent` with `public`; a hand-built definition is
                // refused here: records are kept per principal, and there would be none.
                if def.idempotency.is_some() && matches!(def.access, crate::auth::Access::Public) {
                    return Err(ApiBuildError::PublicIdempotent(def.operation_id));
                }
                if def.idempotency.is_some() && shared.idempotency.is_none() {
                    // As if the store were down: keyed requests are refused, never run twice.
                    tracing::warn!(
                        endpoint = def.operation_id,
                        "idempotent endpoint without a store for its records (no database, no REDIS_URL): requests with Idempotency-Key will be answered 503"
                    );
                }
                let stack = pipeline::endpoint_stack(spec, &shared)
                    .ok_or_else(|| ApiBuildError::RateLimit(def.operation_id.to_owned()))?;
                combined = combined.merge(def.handler.route_layer(stack));
            }
            router = router.route(&path, combined);
        }
        // In production only behind METRICS_TOKEN; never when it has its own listener
        // ([`serve_metrics`]).
        if config.metrics_on_main_listener() {
            router = router.route("/metrics", get(crate::health::metrics));
        }
        if config.docs {
            router = router
                .merge(SwaggerUi::new("/docs").external_url_unchecked("/openapi.json", document));
        }
        // Merged routes get the stack of a declared endpoint with default options
        // (authentication unless merged with `merge_public`). `route_layer` refuses a router
        // without routes, hence the `Option`s.
        let defaults = |access: Access| EndpointSpec {
            name: "merged",
            access,
            health: false,
            rate_limit: None,
            body_limit: config.body_limit,
            body_timeout: config.body_read_timeout,
            timeout: config.request_timeout,
            state: None,
            idempotency_ttl: None,
            cache: None,
            invalidates: &[],
        };
        let merged = [
            (
                self.extra,
                Access::Protected {
                    schemes: Schemes::Any,
                    requirement: Requirement::Authenticated,
                },
            ),
            (self.extra_public, Access::Public),
        ];
        for (extra, access) in merged {
            if let Some(extra) = extra {
                let stack = pipeline::endpoint_stack(defaults(access), &shared)
                    .ok_or_else(|| ApiBuildError::RateLimit("merged".to_owned()))?;
                router = router.merge(extra.route_layer(stack));
            }
        }
        router = router.fallback(|| async { ApiError::not_found() });
        let sqlite = app
            .db()
            .is_some_and(|db| db.backend() == crate::db::Backend::Sqlite);
        // The router's shared state goes on each request in one step (no layer per value).
        let state_app = app.clone();
        let roles = self.rbac.map(crate::auth::Roles);
        let prefix = crate::extract::ApiPrefix(prefix.as_str().into());
        let trusted = crate::extract::TrustedProxies(trusted_proxies.clone());
        // Each part of the app for what needs it (identity's handlers, the store, the
        // operational endpoints, `ClientIp`, `Dep<T>`); the whole app for handlers that ask for
        // it. Built once, put on each request as one extension (`context::shared` reads it).
        let mut values = axum::http::Extensions::new();
        if let Some(db) = state_app.db() {
            values.insert(db.clone());
        }
        if let Some(roles) = roles {
            values.insert(roles);
        }
        values.insert(prefix);
        values.insert(state_app.identity().clone());
        values.insert(state_app.cursor_key().clone());
        values.insert(state_app.health().clone());
        values.insert(trusted);
        values.insert(state_app.dependencies().clone());
        values.insert(state_app);
        let shared_values = crate::context::Shared::new(values);
        let state: pipeline::StateInserter = Arc::new(move |extensions| {
            extensions.insert(shared_values.clone());
        });
        // `with_state(())` turns every handler into its route once, here; a router used directly
        // as a service (tests, `oneshot`) would otherwise convert them on every request.
        Ok(router
            .layer(pipeline::global_stack(
                pipeline::EdgeLayer::new(trusted_proxies, sqlite)
                    .with_validator_seed(app.cursor_key().validator_seed())
                    .with_request_start(config.log_request_start)
                    .with_incoming_trace(config.trace_incoming),
                cors,
                config.max_concurrency,
                ip_throttle,
                state,
                stale_on_shed,
            ))
            .with_state(()))
    }
}

/// A router serving only `GET /metrics` for `app` (the same handler, and `METRICS_TOKEN` if
/// set), for a listener of its own.
pub fn metrics_router(app: &App) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(crate::health::metrics))
        .fallback(|| async { ApiError::not_found() })
        .layer(axum::Extension(app.health().clone()))
}

/// Serves [`metrics_router`] on `METRICS_BIND` when it is configured, in a task of its own;
/// returns the bound address (useful with port 0) and the task. `Ok(None)` when unset.
pub async fn serve_metrics(
    app: &App,
) -> std::io::Result<Option<(std::net::SocketAddr, tokio::task::JoinHandle<()>)>> {
    let Some(bind) = app.config().metrics_bind else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let address = listener.local_addr()?;
    let router = metrics_router(app);
    tracing::info!(bind = %address, "metrics listening");
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::error!(error = %error, "metrics listener stopped");
        }
    });
    Ok(Some((address, task)))
}
