//! The running app: it assembles the configuration, keys, database and Redis into the service
//! each part of the runtime needs ([`Identity`], [`HealthState`], the cursor key, what the
//! server needs), and hands each part only its own. Nothing below imports it: handlers and
//! extractors get their piece as a request extension (put there by `Api::into_router`), and the
//! few functions called with the app (`identity::ensure_admin`, `server::serve`,
//! `Scope::capture`) take what it converts into.

use std::sync::Arc;

use crate::auth::JwtKeys;
use crate::config::Config;
use crate::db::Db;
use crate::dependency::{Dep, Dependencies, Dependency};
use crate::health::{Draining, HealthState};
use crate::identity::{Identity, IdentityHooks, RegistrationHook};
use crate::jobs::{JobServices, JobSet, Jobs, JobsError, Worker};
use crate::rate_limit::{RedisStore, Throttle};
use crate::resource::CursorKey;
use crate::server::ServeOptions;

/// Shared state of one app instance; cheap to clone.
#[derive(Clone, Debug)]
pub struct App {
    inner: Arc<AppInner>,
    /// Typed dependencies (`Dep<T>`); outside `inner` so that registering one does not
    /// rebuild the rest.
    dependencies: Dependencies,
}

/// The app: its parts, and the services assembled from them.
#[derive(Debug)]
struct AppInner {
    parts: Parts,
    identity: Identity,
    health: HealthState,
    cache: crate::cache::ResponseCache,
}

/// What the app is made of. A new part that services are built from is one more field here;
/// [`AppInner::assemble`] is the one place that turns parts into services, so
/// [`App::with_redis`], which changes one part, keeps every other one as it is. (The typed
/// dependencies are no part: no service is built from them, so they sit on [`App`], outside
/// `inner`.)
#[derive(Clone, Debug)]
struct Parts {
    config: Config,
    keys: Arc<JwtKeys>,
    db: Option<Db>,
    redis: Option<RedisStore>,
    cursor_key: CursorKey,
    draining: Draining,
    identity_hooks: IdentityHooks,
    /// The tag versions writes bump: the database's, so that every write through it reaches
    /// the cache.
    tags: crate::cache::Tags,
}

impl AppInner {
    /// The services each part of the runtime gets: identity and health (both depend on the
    /// database and Redis).
    fn assemble(parts: Parts) -> Self {
        let config = &parts.config;
        let login_throttle = Throttle::new(
            "login",
            config.login_rate_limit.scaled(config.rate_limit_multiplier),
            parts.redis.clone(),
        );
        let identity = Identity::new(
            parts.db.clone(),
            parts.keys.clone(),
            login_throttle,
            config.refresh,
        )
        .with_hooks(parts.identity_hooks.clone());
        let health = HealthState::new(
            parts.db.clone(),
            parts.redis.clone(),
            config.readiness_requires.clone(),
            parts.draining.clone(),
            config.metrics_token.clone(),
        );
        let cache = match &parts.db {
            Some(db) => db.cache_sized(config.cache_max_bytes).clone(),
            None => crate::cache::ResponseCache::new(config.cache_max_bytes, parts.tags.clone()),
        };
        Self {
            parts,
            identity,
            health,
            cache,
        }
    }
}

impl App {
    /// An app from a validated config and an optional database. Logs the configuration's
    /// start-up warnings ([`Config::log_warnings`]): initialise logging first.
    pub fn new(config: Config, db: Option<Db>) -> Self {
        config.log_warnings();
        let keys = Arc::new(JwtKeys::new(config.jwt.clone()));
        let mut cursor_key = CursorKey::derive(&config.cursor_secret);
        if let Some(previous) = &config.cursor_previous_secret {
            cursor_key = cursor_key.accepting(previous);
        }
        let tags = db.as_ref().map(|db| db.tags().clone()).unwrap_or_default();
        let parts = Parts {
            config,
            keys,
            db,
            redis: None,
            cursor_key,
            draining: Draining::default(),
            identity_hooks: IdentityHooks::default(),
            tags,
        };
        Self {
            inner: Arc::new(AppInner::assemble(parts)),
            dependencies: Dependencies::new(),
        }
    }

    /// The same app with a Redis store for shared state (rate limits). Call before building
    /// the router.
    pub fn with_redis(self, redis: RedisStore) -> Self {
        let mut parts = self.inner.parts.clone();
        parts.tags.connect(redis.clone());
        if let Some(db) = &parts.db {
            db.recent_writes().connect(redis.clone());
        }
        parts.redis = Some(redis);
        Self {
            inner: Arc::new(AppInner::assemble(parts)),
            dependencies: self.dependencies.clone(),
        }
    }

    /// The limit on login attempts per (account, client IP).
    pub fn login_throttle(&self) -> Option<&Throttle> {
        self.inner.identity.login_throttle()
    }

    /// The response cache of the app's `cache(..)` endpoints.
    pub fn response_cache(&self) -> &crate::cache::ResponseCache {
        &self.inner.cache
    }

    /// The Redis store, when `REDIS_URL` is configured.
    pub fn redis(&self) -> Option<&RedisStore> {
        self.inner.parts.redis.as_ref()
    }

    /// The key list cursors are signed with.
    pub fn cursor_key(&self) -> &CursorKey {
        &self.inner.parts.cursor_key
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.parts.config
    }

    /// The JWT keys.
    pub fn keys(&self) -> &Arc<JwtKeys> {
        &self.inner.parts.keys
    }

    /// The database, when the app has one.
    pub fn db(&self) -> Option<&Db> {
        self.inner.parts.db.as_ref()
    }

    /// Identity's service (accounts and tokens).
    pub fn identity(&self) -> &Identity {
        &self.inner.identity
    }

    /// What the operational endpoints read (readiness, `/metrics`).
    pub fn health(&self) -> &HealthState {
        &self.inner.health
    }

    /// Marks the app as draining: `/health/ready` answers 503 from now on.
    pub fn begin_shutdown(&self) {
        self.inner.parts.draining.begin();
    }
}

/// Typed dependencies (`Dep<T>`, see [`crate::dependency`]).
impl App {
    /// The same app with `value` registered as the `T` handlers receive as `Dep<T>`
    /// (replacing an earlier `T`). Call before building the router: `Api::into_router` refuses
    /// endpoints whose `Dep<T>` is not registered.
    pub fn dep<T: Dependency>(mut self, value: T) -> Self {
        self.dependencies = self.dependencies.with(value);
        self
    }

    /// The same app with every value of `dependencies` registered; they replace earlier
    /// registrations of the same types.
    pub fn with_dependencies(mut self, dependencies: Dependencies) -> Self {
        self.dependencies = self.dependencies.merged(dependencies);
        self
    }

    /// The same app with its jobs declared: the queue is Redis when `REDIS_URL` is set, else
    /// (development only) the in-process queue, whose jobs `server::serve` runs in this
    /// process. Registers the enqueue handle as a dependency (`jobs: Dep<Jobs>`). Production
    /// with jobs and no Redis is refused ([`JobsError::NoQueue`]).
    pub async fn with_jobs(self, set: JobSet) -> Result<Self, JobsError> {
        if let Some(name) = set.duplicates().first() {
            return Err(JobsError::DuplicateName(name));
        }
        // The outbox and the completion records (`enqueue_tx`, `JobCtx::once`).
        if let Some(db) = self.db() {
            crate::jobs::migrate(db)
                .await
                .map_err(|error| JobsError::Database(error.to_string()))?;
        }
        let config = self.config();
        let jobs = match &config.redis_url {
            Some(url) => {
                // Keys as the rate limits write theirs: `<RAMPART_REDIS_PREFIX>:jobs:..`.
                let prefix = format!("{}:", config.redis_prefix);
                // A Redis older than 7.0 is refused here (`QueueError::UnsupportedServer`).
                let queue = crate::jobs::RedisQueue::connect(url, &prefix).await?;
                Jobs::new(Arc::new(queue), set, self.cursor_key().clone())
            }
            None if config.environment == crate::config::Environment::Production
                && !set.is_empty() =>
            {
                return Err(JobsError::NoQueue);
            }
            None => Jobs::in_process(set, self.cursor_key().clone()),
        };
        Ok(self.with_job_handle(jobs))
    }

    /// The same app enqueueing through `jobs` (a queue built by hand, or a test's).
    pub fn with_job_handle(self, jobs: Jobs) -> Self {
        self.dep(jobs)
    }

    /// The same app running `hook` inside every registration's transaction, after the account
    /// row is written (the taskboard enqueues its welcome mail there, with `Jobs::enqueue_tx`).
    pub fn on_registration(self, hook: RegistrationHook) -> Self {
        let mut parts = self.inner.parts.clone();
        parts.identity_hooks.registered.push(hook);
        Self {
            inner: Arc::new(AppInner::assemble(parts)),
            dependencies: self.dependencies,
        }
    }

    /// The enqueue handle, when the app declares jobs.
    pub fn jobs(&self) -> Option<Dep<Jobs>> {
        self.dependencies.get::<Jobs>()
    }

    /// What jobs get besides their input: the database, the typed dependencies, the key
    /// captured scopes verify with, the enqueue handle.
    pub fn job_services(&self) -> Result<JobServices, JobsError> {
        let jobs = self.jobs().ok_or(JobsError::NoJobs)?;
        if let Some((job, dependency)) = jobs.set().unregistered_dependency(&self.dependencies) {
            return Err(JobsError::MissingDependency { job, dependency });
        }
        Ok(JobServices::new(
            self.db().cloned(),
            self.dependencies.clone(),
            self.cursor_key().clone(),
            (*jobs).clone(),
        ))
    }

    /// A worker for the app's jobs, with the configured settings (`RAMPART_JOB_*`): the
    /// `worker` process runs it until SIGTERM (`worker.run(server::shutdown_signal())`).
    pub fn worker(&self) -> Result<Worker, JobsError> {
        Ok(Worker::new(
            self.job_services()?,
            self.config().jobs.clone(),
        ))
    }

    /// The registered dependencies (for services and jobs outside a handler:
    /// `app.dependencies().get::<Mailer>()`).
    pub fn dependencies(&self) -> &Dependencies {
        &self.dependencies
    }
}

impl AsRef<Identity> for App {
    fn as_ref(&self) -> &Identity {
        self.identity()
    }
}

impl AsRef<CursorKey> for App {
    fn as_ref(&self) -> &CursorKey {
        self.cursor_key()
    }
}

impl From<App> for ServeOptions {
    fn from(app: App) -> Self {
        Self::from(&app)
    }
}

impl From<&App> for ServeOptions {
    fn from(app: &App) -> Self {
        let config = app.config();
        let options = Self::new(
            config.bind,
            config.connections,
            config.shutdown_drain,
            app.health(),
        );
        // The server relays the job outbox, and runs the jobs of the in-process queue.
        match app.job_services() {
            Ok(services) => options.with_jobs(services, config.jobs.clone()),
            Err(JobsError::NoJobs) => options,
            // Only a router not built by `Api::into_router(&app)` gets here (it checks the
            // same): the server then relays and runs nothing, and says why.
            Err(error) => {
                tracing::error!(target: "rampart::jobs", error = %error, "the server runs no jobs and relays no outbox");
                options
            }
        }
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for App {
    type Rejection = crate::error::ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        crate::context::shared::<App>(&parts.extensions)
            .cloned()
            .ok_or_else(|| {
                crate::error::ApiError::internal(
                    "the app state is missing: build the router with Api::into_router",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_holds_no_secret() {
        let jwt_secret = "jwt-secret-that-is-long-enough-0123456789";
        let cursor_secret = "cursor-secret-that-is-long-enough-0123456789";
        let metrics_token = "metrics-token-0123456789";
        let config = Config::from_lookup(&|name| match name {
            "JWT_SECRET" => Some(jwt_secret.to_owned()),
            "RAMPART_CURSOR_SECRET" => Some(cursor_secret.to_owned()),
            "METRICS_TOKEN" => Some(metrics_token.to_owned()),
            "DATABASE_URL" => Some("postgres://user:db-password@db.internal/app".to_owned()),
            _ => None,
        })
        .unwrap_or_else(|error| panic!("{error}"));
        let app = App::new(config, None).dep(7_u32);
        let debug = format!("{app:?}");
        for secret in [jwt_secret, cursor_secret, metrics_token, "db-password"] {
            assert!(!debug.contains(secret), "`{secret}` in {debug}");
        }
        // The bytes, as a derived `Debug` of a `Vec<u8>` would print them.
        let secret_bytes = format!("{:?}", jwt_secret.as_bytes());
        let secret_bytes = secret_bytes.trim_matches(['[', ']']);
        assert!(!debug.contains(secret_bytes), "JWT secret bytes in {debug}");
        // Still useful: the redacted token is there, and so are the parts.
        assert!(
            debug.contains("metrics_token: Some(\"[redacted]\")"),
            "{debug}"
        );
        assert!(debug.contains("HealthState"), "{debug}");
        let options = ServeOptions::from(&app);
        let debug = format!("{options:?}");
        assert!(!debug.contains(metrics_token), "{debug}");
    }
}
