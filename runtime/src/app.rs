//! The running app's shared state: configuration, keys, database, draining.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::auth::JwtKeys;
use crate::config::Config;
use crate::db::Db;
use crate::dependency::{Dependencies, Dependency};
use crate::rate_limit::{RedisStore, Throttle};
use crate::resource::CursorKey;

/// Shared state of one app instance; cheap to clone.
#[derive(Clone, Debug)]
pub struct App {
    inner: Arc<AppInner>,
    /// Typed dependencies (`Dep<T>`); outside `inner` so that registering one does not
    /// rebuild the rest.
    dependencies: Dependencies,
}

#[derive(Debug)]
struct AppInner {
    config: Config,
    keys: Arc<JwtKeys>,
    db: Option<Db>,
    redis: Option<RedisStore>,
    login_throttle: Option<Throttle>,
    cursor_key: CursorKey,
    shutting_down: AtomicBool,
}

impl App {
    /// An app from a validated config and an optional database. Logs the configuration's
    /// start-up warnings ([`Config::log_warnings`]): initialise logging first.
    pub fn new(config: Config, db: Option<Db>) -> Self {
        config.log_warnings();
        let keys = Arc::new(JwtKeys::new(config.jwt.clone()));
        let login = login_throttle(&config, None);
        let mut cursor_key = CursorKey::derive(&config.cursor_secret);
        if let Some(previous) = &config.cursor_previous_secret {
            cursor_key = cursor_key.accepting(previous);
        }
        Self {
            inner: Arc::new(AppInner {
                cursor_key,
                config,
                keys,
                db,
                login_throttle: login,
                redis: None,
                shutting_down: AtomicBool::new(false),
            }),
            dependencies: Dependencies::new(),
        }
    }

    /// The same app with a Redis store for shared state (rate limits). Call before building
    /// the router.
    pub fn with_redis(self, redis: RedisStore) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(AppInner {
                config: inner.config.clone(),
                keys: inner.keys.clone(),
                db: inner.db.clone(),
                login_throttle: login_throttle(&inner.config, Some(redis.clone())),
                redis: Some(redis),
                cursor_key: inner.cursor_key.clone(),
                shutting_down: AtomicBool::new(inner.shutting_down.load(Ordering::SeqCst)),
            }),
            dependencies: self.dependencies.clone(),
        }
    }

    /// The limit on login attempts per (account, client IP).
    pub fn login_throttle(&self) -> Option<&Throttle> {
        self.inner.login_throttle.as_ref()
    }

    /// The Redis store, when `REDIS_URL` is configured.
    pub fn redis(&self) -> Option<&RedisStore> {
        self.inner.redis.as_ref()
    }

    /// The key list cursors are signed with.
    pub fn cursor_key(&self) -> &CursorKey {
        &self.inner.cursor_key
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The JWT keys.
    pub fn keys(&self) -> &Arc<JwtKeys> {
        &self.inner.keys
    }

    /// The database, when the app has one.
    pub fn db(&self) -> Option<&Db> {
        self.inner.db.as_ref()
    }

    /// Marks the app as draining: `/health/ready` answers 503 from now on.
    pub fn begin_shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::SeqCst);
    }

    /// Whether shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Ordering::SeqCst)
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

    /// The registered dependencies (for services and jobs outside a handler:
    /// `app.dependencies().get::<Mailer>()`).
    pub fn dependencies(&self) -> &Dependencies {
        &self.dependencies
    }
}

fn login_throttle(config: &Config, redis: Option<RedisStore>) -> Option<Throttle> {
    Throttle::new(
        "login",
        config.login_rate_limit.scaled(config.rate_limit_multiplier),
        redis,
    )
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for App {
    type Rejection = crate::error::ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<App>().cloned().ok_or_else(|| {
            crate::error::ApiError::internal(
                "the app state is missing: build the router with Api::into_router",
            )
        })
    }
}
