//! The testing kit: an app in-process behind its real router, tokens for any principal, and a
//! fresh database per test (an SQLite file or a PostgreSQL database created for the test).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use rampart_runtime::testing::{TestApp, TestBackend};
//! let app = TestApp::builder(rampart_runtime::Api::new()).backend(TestBackend::Sqlite).build().await?;
//! let response = app.get("/health/ready").send().await;
//! assert_eq!(response.status(), 200);
//! # Ok(()) }
//! ```
//!
//! PostgreSQL tests connect to `RAMPART_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), create `rampart_test_<uuid>` and drop it when
//! the [`TestApp`] is dropped.

use std::io;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use sqlx::{Connection, Executor};
use tower::ServiceExt;
use tracing_subscriber::fmt::MakeWriter;
use uuid::Uuid;

use crate::api::{Api, ApiBuildError};
use crate::app::App;
use crate::config::{Config, ConfigError};
use crate::db::{Db, DbConfig, DbError, Migrations};
use crate::dependency::{Dependencies, Dependency};

/// Why a test app could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    /// Configuration error.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Database error.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Mounting error.
    #[error(transparent)]
    Build(#[from] ApiBuildError),
    /// Creating the test database failed.
    #[error("test database: {0}")]
    Setup(String),
}

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    /// A fresh SQLite file in the temp directory.
    Sqlite,
    /// A fresh database on the test PostgreSQL server.
    Postgres,
}

/// Both backends, for tests that must pass on each.
pub const BACKENDS: [TestBackend; 2] = [TestBackend::Sqlite, TestBackend::Postgres];

/// The server PostgreSQL tests use.
pub fn postgres_admin_url() -> String {
    std::env::var("RAMPART_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDb {
    url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    SqliteFile(std::path::PathBuf),
    PostgresDatabase { admin_url: String, name: String },
}

impl TestDb {
    /// Creates a fresh database.
    pub async fn create(backend: TestBackend) -> Result<Self, TestError> {
        let id = Uuid::new_v4().simple().to_string();
        match backend {
            TestBackend::Sqlite => {
                let path = std::env::temp_dir().join(format!("rampart-test-{id}.db"));
                Ok(Self {
                    url: format!("sqlite://{}", path.display()),
                    cleanup: Cleanup::SqliteFile(path),
                })
            }
            TestBackend::Postgres => {
                let admin_url = postgres_admin_url();
                let name = format!("rampart_test_{id}");
                let mut admin = sqlx::PgConnection::connect(&admin_url).await.map_err(|e| {
                    TestError::Setup(format!(
                        "PostgreSQL at {admin_url} is required for this test: {e}"
                    ))
                })?;
                // The name is generated above from a UUID: no input reaches this statement.
                admin
                    .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .await
                    .map_err(|e| TestError::Setup(e.to_string()))?;
                let _ = admin.close().await;
                let base = admin_url
                    .rsplit_once('/')
                    .map_or(admin_url.as_str(), |(base, _)| base);
                Ok(Self {
                    url: format!("{base}/{name}"),
                    cleanup: Cleanup::PostgresDatabase { admin_url, name },
                })
            }
        }
    }

    /// The database URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::PostgresDatabase { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime: use a thread with its own runtime.
                let _ = std::thread::spawn(move || {
                    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    runtime.block_on(async {
                        if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                            let statement =
                                format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                            let _ = admin.execute(sqlx::AssertSqlSafe(statement)).await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// Captured log output of the test process.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Ok(mut lines) = self.0.lock() {
            lines.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

static CAPTURE: OnceLock<Capture> = OnceLock::new();

/// Installs the JSON log layer writing into memory (once per process; level from `RUST_LOG`,
/// default `debug`).
pub fn capture_logs() {
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        // Debug level, so the tests see (and check) everything a verbose deployment logs.
        crate::observability::init_logging_with("rampart-test", capture.clone(), "debug");
        capture
    });
}

/// Everything logged so far in this process, as JSON lines.
pub fn logs() -> String {
    CAPTURE
        .get()
        .and_then(|capture| {
            capture
                .0
                .lock()
                .ok()
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        })
        .unwrap_or_default()
}

/// The log lines that mention `needle` (a request id, typically), parsed.
pub fn log_lines_with(needle: &str) -> Vec<serde_json::Value> {
    logs()
        .lines()
        .filter(|line| line.contains(needle))
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// A change a test makes to the default configuration.
type ConfigChange = Box<dyn FnOnce(&mut Config) + Send>;

/// Builds a [`TestApp`].
pub struct TestAppBuilder {
    api: Api,
    backend: Option<TestBackend>,
    database_url: Option<String>,
    redis: Option<(String, String)>,
    identity: bool,
    migrations: Migrations,
    configure: Vec<ConfigChange>,
    /// What the app registers at start-up, as its `main` does.
    dependencies: Dependencies,
    /// What the test puts in their place (wins whatever the order of the calls).
    dependency_overrides: Dependencies,
    /// The app's jobs (`App::with_jobs`): on Redis when [`TestAppBuilder::redis`] is given,
    /// else on the in-process queue, run by [`TestApp::drain_jobs`].
    jobs: Option<crate::jobs::JobSet>,
    /// Last changes to the app, as its `main` makes them after declaring jobs.
    app_changes: Vec<Box<dyn FnOnce(App) -> App + Send>>,
}

impl TestAppBuilder {
    /// Gives the app a fresh database of this backend.
    pub fn backend(mut self, backend: TestBackend) -> Self {
        self.backend = Some(backend);
        self
    }

    /// Connects the app to Redis at `url` with a key `prefix` (tests give each app its own
    /// prefix, or the same one to make two apps share limits).
    pub fn redis(mut self, url: impl Into<String>, prefix: impl Into<String>) -> Self {
        self.redis = Some((url.into(), prefix.into()));
        self
    }

    /// Uses an existing database (e.g. a dedicated cluster a test stops and starts) instead of
    /// creating a fresh one; migrations still run.
    pub fn database_url(mut self, url: impl Into<String>) -> Self {
        self.database_url = Some(url.into());
        self
    }

    /// Also creates rampart's identity tables (accounts, refresh tokens).
    pub fn with_identity(mut self) -> Self {
        self.identity = true;
        self
    }

    /// Migrations to run on the fresh database.
    pub fn migrations(mut self, migrations: Migrations) -> Self {
        self.migrations = migrations;
        self
    }

    /// Adjusts the configuration (defaults: development with a fixed test secret).
    pub fn configure(mut self, change: impl FnOnce(&mut Config) + Send + 'static) -> Self {
        self.configure.push(Box::new(change));
        self
    }

    /// Registers the app's dependencies, the set its `main` registers with
    /// `App::with_dependencies` (e.g. `TestApp::builder(api()).dependencies(dependencies())`).
    pub fn dependencies(mut self, dependencies: Dependencies) -> Self {
        self.dependencies = self.dependencies.merged(dependencies);
        self
    }

    /// Registers `value` as the `T` handlers receive as `Dep<T>`, in place of any `T` from
    /// [`TestAppBuilder::dependencies`] (a fake mailer, a fixed clock).
    pub fn dep<T: Dependency>(mut self, value: T) -> Self {
        self.dependency_overrides = self.dependency_overrides.with(value);
        self
    }

    /// Declares the app's jobs, as its `main` does with `App::with_jobs`.
    pub fn jobs(mut self, jobs: crate::jobs::JobSet) -> Self {
        self.jobs = Some(jobs);
        self
    }

    /// Changes the app once it is assembled (after its jobs), as its `main` does: attaching an
    /// identity hook, say.
    pub fn map_app(mut self, change: impl FnOnce(App) -> App + Send + 'static) -> Self {
        self.app_changes.push(Box::new(change));
        self
    }

    /// Creates the database, runs migrations and builds the router.
    pub async fn build(self) -> Result<TestApp, TestError> {
        capture_logs();
        crate::observability::install_prometheus();
        let mut config = Config::from_lookup(&|name| match name {
            "JWT_SECRET" => Some("rampart-test-secret-of-at-least-32-bytes".to_owned()),
            _ => None,
        })?;
        let test_db = match self.backend {
            Some(backend) => Some(TestDb::create(backend).await?),
            None => None,
        };
        let url = self
            .database_url
            .clone()
            .or_else(|| test_db.as_ref().map(|db| db.url().to_owned()));
        if let Some(url) = &url {
            config.database = DbConfig {
                min_connections: 0,
                ..DbConfig::new(url)
            };
        }
        if let (Some(_), Some((url, prefix))) = (&self.jobs, &self.redis) {
            config.redis_url = Some(url.clone());
            config.redis_prefix = prefix.clone();
        }
        for change in self.configure {
            change(&mut config);
        }
        let db = match &url {
            Some(_) => {
                let db = Db::connect(&config.database).await?;
                db.migrate(&self.migrations).await?;
                if self.identity {
                    crate::identity::migrate(&db).await?;
                }
                // The records of idempotent endpoints, when the API has any (they live in the
                // database unless Redis is configured).
                if self
                    .api
                    .endpoints()
                    .iter()
                    .any(|(_, def)| def.idempotency.is_some())
                {
                    crate::idempotency::migrate(&db).await?;
                }
                Some(db)
            }
            None => None,
        };
        let mut app = App::new(config, db);
        if let Some((url, prefix)) = &self.redis {
            let store = crate::rate_limit::RedisStore::connect(url, prefix)
                .await
                .map_err(|e| {
                    TestError::Setup(format!("Redis at {url} is required for this test: {e}"))
                })?;
            app = app.with_redis(store);
        }
        let mut app = app
            .with_dependencies(self.dependencies)
            .with_dependencies(self.dependency_overrides);
        if let Some(jobs) = self.jobs {
            app = app
                .with_jobs(jobs)
                .await
                .map_err(|e| TestError::Setup(format!("jobs: {e}")))?;
        }
        for change in self.app_changes {
            app = change(app);
        }
        let router = self.api.into_router(&app)?;
        Ok(TestApp {
            router,
            app,
            _db: test_db,
        })
    }
}

/// An app under test, reached through its real router.
pub struct TestApp {
    router: Router,
    app: App,
    // Declared last: the database is dropped after the pools of `app`.
    _db: Option<TestDb>,
}

impl TestApp {
    /// Starts building a test app around `api`.
    pub fn builder(api: Api) -> TestAppBuilder {
        TestAppBuilder {
            api,
            backend: None,
            database_url: None,
            redis: None,
            identity: false,
            migrations: Migrations::default(),
            configure: Vec::new(),
            dependencies: Dependencies::new(),
            dependency_overrides: Dependencies::new(),
            jobs: None,
            app_changes: Vec::new(),
        }
    }

    /// Runs the app's jobs until none is left to run (ready, scheduled, running, or waiting
    /// in the outbox); what the worker did. Not idle within 30 s is an error, so a test that
    /// asserts on what did not happen cannot pass on a drain that gave up.
    pub async fn drain_jobs(&self) -> Result<crate::jobs::WorkerReport, TestError> {
        let worker = self
            .app
            .worker()
            .map_err(|e| TestError::Setup(e.to_string()))?;
        let services = self
            .app
            .job_services()
            .map_err(|e| TestError::Setup(e.to_string()))?;
        let drained = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = drained.clone();
        let report = worker
            .run(async move {
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
                // Idle twice in a row, 50 ms apart: a job that just finished may enqueue another.
                let mut idle = 0;
                while idle < 2 && std::time::Instant::now() < deadline {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    if crate::jobs::is_idle(&services).await {
                        idle += 1;
                    } else {
                        idle = 0;
                    }
                }
                flag.store(idle >= 2, std::sync::atomic::Ordering::SeqCst);
            })
            .await;
        if drained.load(std::sync::atomic::Ordering::SeqCst) {
            Ok(report)
        } else {
            Err(TestError::Setup(format!(
                "jobs were still waiting or running after 30 s ({report:?})"
            )))
        }
    }

    /// The app state (config, keys, database).
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The router, to serve it on a real socket.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// A token for a new user with `roles`.
    pub fn token(&self, roles: &[&str]) -> String {
        self.token_for(Uuid::now_v7(), roles)
    }

    /// A token for `user_id` with `roles`.
    pub fn token_for(&self, user_id: Uuid, roles: &[&str]) -> String {
        let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
        self.app.keys().issue(user_id, &roles).unwrap_or_default()
    }

    /// A request to `path`.
    pub fn request(&self, method: Method, path: &str) -> TestRequest {
        TestRequest {
            router: self.router.clone(),
            peer: std::net::SocketAddr::from(([127, 0, 0, 1], 40000)),
            method,
            path: path.to_owned(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    /// A GET request.
    pub fn get(&self, path: &str) -> TestRequest {
        self.request(Method::GET, path)
    }

    /// A POST request.
    pub fn post(&self, path: &str) -> TestRequest {
        self.request(Method::POST, path)
    }

    /// Sends a raw request through the router (with `Host: localhost` when it has no `Host`, as
    /// every HTTP/1.1 client sends one; use [`TestApp::router`] to send one without).
    pub async fn send(&self, mut request: Request<Body>) -> TestResponse {
        default_host(request.headers_mut());
        let Ok(response) = self.router.clone().oneshot(request).await;
        TestResponse::read(response).await
    }
}

/// `Host: localhost` unless the request names one (the pipeline refuses HTTP/1.1 without it).
fn default_host(headers: &mut HeaderMap) {
    if !headers.contains_key(axum::http::header::HOST) {
        headers.insert(
            axum::http::header::HOST,
            HeaderValue::from_static("localhost"),
        );
    }
}

/// A request being built.
pub struct TestRequest {
    router: Router,
    peer: std::net::SocketAddr,
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

impl TestRequest {
    /// Adds a header; invalid names or values are skipped.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            self.headers.append(name, value);
        }
        self
    }

    /// The peer address the request comes from (default `127.0.0.1:40000`), as a real server
    /// would see it through `ConnectInfo`.
    pub fn peer(mut self, peer: std::net::SocketAddr) -> Self {
        self.peer = peer;
        self
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// A JSON body with its content type.
    pub fn json(mut self, value: &serde_json::Value) -> Self {
        self.body = Bytes::from(value.to_string());
        self.header("content-type", "application/json")
    }

    /// A raw body (no content type).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sends it through the router.
    pub async fn send(self) -> TestResponse {
        let mut request = Request::new(Body::from(self.body));
        *request.method_mut() = self.method;
        *request.uri_mut() = self.path.parse().unwrap_or_default();
        *request.headers_mut() = self.headers;
        default_host(request.headers_mut());
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(self.peer));
        let Ok(response) = self.router.oneshot(request).await;
        TestResponse::read(response).await
    }
}

/// A buffered response.
#[derive(Debug)]
pub struct TestResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl TestResponse {
    /// Buffers a response.
    pub async fn read(response: axum::response::Response) -> Self {
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map(|collected| collected.to_bytes())
            .unwrap_or_default();
        Self {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status.as_u16()
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// All headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// `error.code` of an error envelope.
    pub fn error_code(&self) -> Option<String> {
        self.json()["error"]["code"].as_str().map(str::to_owned)
    }

    /// Whether the content type is `application/json`.
    pub fn is_json(&self) -> bool {
        self.header(header::CONTENT_TYPE.as_str())
            .is_some_and(|v| v.starts_with("application/json"))
    }
}

/// A [`crate::Scope`] for `user_id`, so a service that takes a scope is unit-testable without
/// HTTP. Behind the `testing` feature: outside it a scope comes only from an authenticated
/// request or a verified capture. (A scope is an owner and nothing more; for roles, see
/// [`principal_for`].)
#[cfg(feature = "testing")]
pub fn scope_for(user_id: Uuid) -> crate::Scope {
    crate::Scope::owned_by(user_id)
}

/// A [`crate::auth::Principal`] as if `user_id` had signed in with a token carrying `roles`,
/// for unit tests of code that reads a principal (RBAC tables, `UnscopedAdmin::of`). Behind the
/// `testing` feature.
#[cfg(feature = "testing")]
pub fn principal_for(user_id: Uuid, roles: &[&str]) -> crate::auth::Principal {
    crate::auth::Principal::authenticated(
        user_id,
        roles.iter().map(|role| (*role).to_owned()).collect(),
        crate::auth::AuthScheme::Jwt,
    )
}
