//! The database layer: SQLite or PostgreSQL pools chosen by URL, an optional read replica,
//! embedded migrations, statement timeouts, and error mapping to the envelope.
//!
//! Unreachable or timed-out databases are 503 `UNAVAILABLE` with `Retry-After` (never a 500):
//! sqlx pools reconnect on their own, so the app recovers when the database returns.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use futures_util::future::BoxFuture;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{ConnectOptions, SqlSafeStr};

use crate::error::{ApiError, ErrorCode};

/// Runs the same sqlx code on whichever backend a [`Pool`] is, so a statement is written once:
///
/// ```text
/// let rows: Vec<(Uuid, String)> = rampart::with_pool!(db.reader(), |pool| {
///     sqlx::query_as("SELECT id, title FROM notes WHERE owner_id = $1").bind(owner).fetch_all(pool).await
/// })?;
/// ```
///
/// (sqlx's `Any` driver would need one code path too, but cannot carry `Uuid` or `DateTime`.)
#[macro_export]
macro_rules! with_pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            $crate::db::Pool::Sqlite($p) => $body,
            $crate::db::Pool::Postgres($p) => $body,
        }
    };
}

/// Seconds a client should wait before retrying after a database outage.
const RETRY_AFTER_SECONDS: u32 = 2;

/// Database settings (see `Config` for the variables).
#[derive(Clone)]
pub struct DbConfig {
    /// `sqlite://file.db` or `postgres://user@host/db`.
    pub url: String,
    /// Optional read replica.
    pub replica_url: Option<String>,
    /// Connections kept open.
    pub min_connections: u32,
    /// Upper bound of the pool.
    pub max_connections: u32,
    /// How long a request waits for a connection (≤ 3 s).
    pub acquire_timeout: Duration,
    /// Per-statement timeout (server-side on PostgreSQL, client-side on SQLite).
    pub statement_timeout: Duration,
    /// Statements slower than this are logged at warn.
    pub slow_query: Duration,
}

impl fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // URLs can carry passwords: show only the scheme.
        let scheme = |url: &str| url.split("://").next().unwrap_or("?").to_owned();
        f.debug_struct("DbConfig")
            .field("url", &format!("{}://…", scheme(&self.url)))
            .field(
                "replica_url",
                &self
                    .replica_url
                    .as_deref()
                    .map(|u| format!("{}://…", scheme(u))),
            )
            .field("min_connections", &self.min_connections)
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .finish()
    }
}

impl DbConfig {
    /// Defaults for a URL: pool 5..=25, acquire 3 s, statements 5 s, slow 500 ms.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            replica_url: None,
            min_connections: 5,
            max_connections: 25,
            acquire_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(5),
            slow_query: Duration::from_millis(500),
        }
    }
}

/// Why the database could not be set up at start.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL names no supported backend.
    #[error("DATABASE_URL must start with sqlite:// or postgres://")]
    UnsupportedUrl,
    /// Connecting or migrating failed.
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    /// A migration failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Which backend a pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A pool of one backend.
#[derive(Debug, Clone)]
pub enum Pool {
    /// SQLite pool.
    Sqlite(SqlitePool),
    /// PostgreSQL pool.
    Postgres(PgPool),
}

impl Pool {
    /// The backend of this pool.
    pub fn backend(&self) -> Backend {
        match self {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    fn stats(&self) -> (u32, usize) {
        match self {
            Pool::Sqlite(pool) => (pool.size(), pool.num_idle()),
            Pool::Postgres(pool) => (pool.size(), pool.num_idle()),
        }
    }
}

/// Migrations of one app, as SQL per backend: `(version, description, sql)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Migrations {
    /// SQLite migrations, in version order.
    pub sqlite: &'static [(i64, &'static str, &'static str)],
    /// PostgreSQL migrations, in version order.
    pub postgres: &'static [(i64, &'static str, &'static str)],
}

/// Feeds embedded migrations to sqlx's migrator (which records and checksums them).
#[derive(Debug)]
struct Embedded(Vec<Migration>);

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        Box::pin(async move { Ok(self.0) })
    }
}

fn embedded(list: &'static [(i64, &'static str, &'static str)]) -> Embedded {
    Embedded(
        list.iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// The app's database: a primary pool, an optional replica, and the statement timeout.
#[derive(Debug, Clone)]
pub struct Db {
    primary: Pool,
    replica: Option<Pool>,
    statement_timeout: Duration,
}

async fn connect_pool(url: &str, config: &DbConfig) -> Result<Pool, DbError> {
    let statements = log::LevelFilter::Debug;
    if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(config.statement_timeout)
            .log_statements(statements)
            .log_slow_statements(log::LevelFilter::Warn, config.slow_query);
        let pool = SqlitePoolOptions::new()
            .min_connections(config.min_connections)
            .max_connections(config.max_connections)
            .acquire_timeout(config.acquire_timeout)
            .connect_with(options)
            .await?;
        Ok(Pool::Sqlite(pool))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let timeout_ms = config.statement_timeout.as_millis().to_string();
        let options = PgConnectOptions::from_str(url)?
            .options([("statement_timeout", timeout_ms.as_str())])
            .log_statements(statements)
            .log_slow_statements(log::LevelFilter::Warn, config.slow_query);
        let pool = PgPoolOptions::new()
            .min_connections(config.min_connections)
            .max_connections(config.max_connections)
            .acquire_timeout(config.acquire_timeout)
            .connect_with(options)
            .await?;
        Ok(Pool::Postgres(pool))
    } else {
        Err(DbError::UnsupportedUrl)
    }
}

impl Db {
    /// Connects the primary (and the replica when configured).
    pub async fn connect(config: &DbConfig) -> Result<Self, DbError> {
        let primary = connect_pool(&config.url, config).await?;
        let replica = match &config.replica_url {
            Some(url) => Some(connect_pool(url, config).await?),
            None => None,
        };
        Ok(Self {
            primary,
            replica,
            statement_timeout: config.statement_timeout,
        })
    }

    /// Runs a set of migrations with its own history table (e.g. rampart's identity tables,
    /// which must never collide with an app's versions).
    pub async fn migrate_into(
        &self,
        migrations: &Migrations,
        table: &'static str,
    ) -> Result<(), DbError> {
        match &self.primary {
            Pool::Sqlite(pool) => {
                let mut migrator = Migrator::new(embedded(migrations.sqlite)).await?;
                migrator.dangerous_set_table_name(table);
                migrator.run(pool).await?
            }
            Pool::Postgres(pool) => {
                let mut migrator = Migrator::new(embedded(migrations.postgres)).await?;
                migrator.dangerous_set_table_name(table);
                migrator.run(pool).await?
            }
        }
        Ok(())
    }

    /// Runs the migrations of the primary's backend.
    pub async fn migrate(&self, migrations: &Migrations) -> Result<(), DbError> {
        match &self.primary {
            Pool::Sqlite(pool) => {
                Migrator::new(embedded(migrations.sqlite))
                    .await?
                    .run(pool)
                    .await?
            }
            Pool::Postgres(pool) => {
                Migrator::new(embedded(migrations.postgres))
                    .await?
                    .run(pool)
                    .await?
            }
        }
        Ok(())
    }

    /// The backend of the primary.
    pub fn backend(&self) -> Backend {
        self.primary.backend()
    }

    /// The pool for writes and read-after-write.
    pub fn primary(&self) -> &Pool {
        &self.primary
    }

    /// The pool for reads: the replica when configured, else the primary.
    pub fn reader(&self) -> &Pool {
        self.replica.as_ref().unwrap_or(&self.primary)
    }

    /// Runs one database operation with the statement timeout, records its duration in
    /// `db_query_duration_seconds{query}`, and maps failures to the envelope.
    pub async fn run<T, F>(&self, query: &'static str, operation: F) -> Result<T, ApiError>
    where
        F: Future<Output = Result<T, sqlx::Error>>,
    {
        self.run_mapped(query, operation, map_sqlx_error).await
    }

    /// [`Db::run`] with a caller-chosen mapping of database errors (resources name the field
    /// of a unique violation).
    pub async fn run_mapped<T, F>(
        &self,
        query: &'static str,
        operation: F,
        map_error: impl FnOnce(sqlx::Error) -> ApiError,
    ) -> Result<T, ApiError>
    where
        F: Future<Output = Result<T, sqlx::Error>>,
    {
        let started = Instant::now();
        let outcome = tokio::time::timeout(self.statement_timeout, operation).await;
        metrics::histogram!("db_query_duration_seconds", "query" => query)
            .record(started.elapsed().as_secs_f64());
        match outcome {
            Ok(result) => result.map_err(map_error),
            Err(_) => {
                metrics::counter!("db_timeouts_total", "query" => query).increment(1);
                tracing::warn!(
                    query,
                    timeout_ms = self.statement_timeout.as_millis() as u64,
                    "database statement timed out"
                );
                Err(ApiError::unavailable(RETRY_AFTER_SECONDS))
            }
        }
    }

    /// Checks that the primary answers `SELECT 1` within a second.
    pub async fn ping(&self) -> Result<(), ApiError> {
        let check = async {
            match &self.primary {
                Pool::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()),
                Pool::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()),
            }
        };
        match tokio::time::timeout(Duration::from_secs(1), check).await {
            Ok(result) => result.map_err(map_sqlx_error),
            Err(_) => Err(ApiError::unavailable(RETRY_AFTER_SECONDS)),
        }
    }

    /// Publishes pool gauges (size, idle, in use) for `/metrics`.
    pub fn record_pool_metrics(&self) {
        let mut pools = vec![("primary", &self.primary)];
        if let Some(replica) = &self.replica {
            pools.push(("replica", replica));
        }
        for (name, pool) in pools {
            let (size, idle) = pool.stats();
            let in_use = (size as usize).saturating_sub(idle);
            metrics::gauge!("db_pool_connections", "pool" => name, "state" => "open")
                .set(f64::from(size));
            metrics::gauge!("db_pool_connections", "pool" => name, "state" => "idle")
                .set(idle as f64);
            metrics::gauge!("db_pool_connections", "pool" => name, "state" => "in_use")
                .set(in_use as f64);
        }
    }
}

/// Maps a sqlx error: outages are 503, constraint violations 409/422, the rest 500.
pub fn map_sqlx_error(error: sqlx::Error) -> ApiError {
    match &error {
        sqlx::Error::RowNotFound => ApiError::not_found(),
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => {
            tracing::warn!(error = %error, "database unavailable");
            metrics::counter!("db_unavailable_total").increment(1);
            ApiError::unavailable(RETRY_AFTER_SECONDS)
        }
        sqlx::Error::Database(db) => {
            // 57014: query_canceled (statement_timeout); 57P01..03: admin shutdown / cannot connect now.
            let code = db.code();
            match code.as_deref() {
                Some("57014") | Some("57P01") | Some("57P02") | Some("57P03") => {
                    tracing::warn!(error = %error, "database unavailable");
                    ApiError::unavailable(RETRY_AFTER_SECONDS)
                }
                // Class 22 codes the request's own values cause: a NUL or other character the
                // encoding cannot hold, a string longer than its column, a number or date out of
                // range. The client can fix those; they are not server faults.
                Some("22021") | Some("22P05") | Some("22001") | Some("22003") | Some("22007")
                | Some("22008") => ApiError::new(ErrorCode::BadRequest)
                    .with_message("a value in the request cannot be stored (for example a NUL character, or text or a number out of range)")
                    .with_source(error),
                _ if db.is_unique_violation() => {
                    ApiError::new(ErrorCode::Conflict).with_source(error)
                }
                _ if db.is_foreign_key_violation() => {
                    ApiError::new(ErrorCode::Unprocessable).with_source(error)
                }
                _ => ApiError::internal(error),
            }
        }
        _ => ApiError::internal(error),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Db {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Db>()
            .cloned()
            .ok_or_else(|| ApiError::internal("no database configured for this app"))
    }
}
