//! The database layer: SQLite or PostgreSQL pools chosen by URL, an optional read replica,
//! embedded migrations, statement timeouts, and error mapping to the envelope.
//!
//! Unreachable or timed-out databases are 503 `UNAVAILABLE` with `Retry-After` (never a 500):
//! sqlx pools reconnect on their own, so the app recovers when the database returns.
//!
//! A replica that cannot be reached is not an outage while the primary answers: reads run
//! through [`Db::read`] (and the resource store) fall back to the primary, the replica is left
//! alone for `DATABASE_REPLICA_RETRY`, then probed in the background and used again once it
//! answers. A serialisation failure or deadlock (40001 / 40P01) of a statement run through a
//! closure is retried a few times with a jittered backoff, then answered 409 `CONFLICT`.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
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
    /// How long a replica that failed is left alone before it is probed again (reads go to
    /// the primary meanwhile).
    pub replica_retry: Duration,
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
            .field("replica_retry", &self.replica_retry)
            .finish()
    }
}

impl DbConfig {
    /// Defaults for a URL: pool 5..=25, acquire 3 s, statements 5 s, slow 500 ms, replica
    /// retry 5 s.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            replica_url: None,
            min_connections: 5,
            max_connections: 25,
            acquire_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(5),
            slow_query: Duration::from_millis(500),
            replica_retry: Duration::from_secs(5),
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
    replica: Option<Replica>,
    statement_timeout: Duration,
}

/// A read replica and its circuit breaker.
#[derive(Debug, Clone)]
struct Replica {
    pool: Pool,
    state: Arc<ReplicaState>,
}

/// When the replica failed: reads skip it until `down_until`, then one background probe
/// decides whether it is used again.
#[derive(Debug)]
struct ReplicaState {
    /// Milliseconds after `epoch` until which the replica is left alone; 0: in use.
    down_until: AtomicU64,
    epoch: Instant,
    retry: Duration,
}

impl ReplicaState {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    fn until(&self) -> u64 {
        let retry = u64::try_from(self.retry.as_millis()).unwrap_or(u64::MAX);
        self.now_ms().saturating_add(retry.max(1))
    }
}

/// How many times a statement or transaction is run when it loses a serialisation conflict
/// or a deadlock (the first run and three retries).
pub(crate) const CONFLICT_ATTEMPTS: u32 = 4;

/// Whether an error says the connection, not the statement, failed: the pool could not hand
/// out a connection in time, the server refused or dropped it, or is shutting down. Such a read
/// can run elsewhere; a statement that timed out or failed on its own terms cannot.
pub fn is_connection_failure(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // 08xxx: connection exception; 57P01..03: admin/crash shutdown, cannot connect now.
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

/// Whether an error is a lost serialisation conflict or deadlock, which running the same work
/// again can resolve: PostgreSQL 40001 / 40P01, SQLite `SQLITE_BUSY` (5, and its extended
/// codes such as 517 `SQLITE_BUSY_SNAPSHOT`) and `SQLITE_LOCKED` (6).
pub fn is_serialization_failure(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = error else {
        return false;
    };
    let Some(code) = db.code() else {
        return false;
    };
    if matches!(code.as_ref(), "40001" | "40P01") {
        return true;
    }
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // The primary result code is the low byte of SQLite's extended code.
        return code
            .parse::<u32>()
            .is_ok_and(|extended| matches!(extended & 0xff, 5 | 6));
    }
    false
}

/// Waits a little before the next attempt after a conflict: 5 ms, 10 ms, 20 ms…, each
/// jittered to between half and one and a half times that, so two losers do not collide again.
pub(crate) async fn conflict_backoff(attempt: u32) {
    let base = 5u64.saturating_mul(1 << attempt.saturating_sub(1).min(8));
    let jitter = getrandom::u32().unwrap_or(0) % 1000;
    let micros = base * 500 + base * u64::from(jitter);
    tokio::time::sleep(Duration::from_micros(micros)).await;
}

/// The 409 of a conflict that outlived its retries.
pub(crate) fn conflict_exhausted() -> ApiError {
    ApiError::new(ErrorCode::Conflict).with_message(
        "the request conflicted with a concurrent one and could not be completed; retry it",
    )
}

async fn connect_pool(url: &str, config: &DbConfig, lazy: bool) -> Result<Pool, DbError> {
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
            .acquire_timeout(config.acquire_timeout);
        Ok(Pool::Sqlite(if lazy {
            pool.connect_lazy_with(options)
        } else {
            pool.connect_with(options).await?
        }))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let timeout_ms = config.statement_timeout.as_millis().to_string();
        let options = PgConnectOptions::from_str(url)?
            .options([("statement_timeout", timeout_ms.as_str())])
            .log_statements(statements)
            .log_slow_statements(log::LevelFilter::Warn, config.slow_query);
        let pool = PgPoolOptions::new()
            .min_connections(config.min_connections)
            .max_connections(config.max_connections)
            .acquire_timeout(config.acquire_timeout);
        Ok(Pool::Postgres(if lazy {
            pool.connect_lazy_with(options)
        } else {
            pool.connect_with(options).await?
        }))
    } else {
        Err(DbError::UnsupportedUrl)
    }
}

/// How one attempt of a statement ended before its error is mapped.
enum Attempt<T> {
    Done(T),
    Failed(sqlx::Error),
    TimedOut,
}

impl Db {
    /// Connects the primary (and the replica when configured). A replica that cannot be reached
    /// at start does not stop the app: it starts with reads on the primary and the replica is
    /// probed until it answers.
    pub async fn connect(config: &DbConfig) -> Result<Self, DbError> {
        let primary = connect_pool(&config.url, config, false).await?;
        let replica = match &config.replica_url {
            Some(url) => {
                let state = Arc::new(ReplicaState {
                    down_until: AtomicU64::new(0),
                    epoch: Instant::now(),
                    retry: config.replica_retry,
                });
                let pool = match connect_pool(url, config, false).await {
                    Ok(pool) => pool,
                    Err(DbError::Sqlx(error)) if is_connection_failure(&error) => {
                        tracing::warn!(error = %error, "read replica unreachable at start: reads use the primary until it answers");
                        state.down_until.store(state.until(), Ordering::SeqCst);
                        metrics::gauge!("rampart_dependency_up", "dependency" => "replica")
                            .set(0.0);
                        connect_pool(url, config, true).await?
                    }
                    Err(error) => return Err(error),
                };
                Some(Replica { pool, state })
            }
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

    /// The pool for reads: the replica when configured and not marked down, else the primary.
    /// Prefer [`Db::read`], which also falls back when the replica fails under the statement.
    pub fn reader(&self) -> &Pool {
        self.usable_replica().unwrap_or(&self.primary)
    }

    /// The replica if it is in use; when it is marked down, `None` (counted as a fallback),
    /// and once its retry time has passed one background probe decides whether it returns.
    fn usable_replica(&self) -> Option<&Pool> {
        let replica = self.replica.as_ref()?;
        let state = &replica.state;
        let until = state.down_until.load(Ordering::SeqCst);
        if until == 0 {
            return Some(&replica.pool);
        }
        metrics::counter!("rampart_replica_fallback_total").increment(1);
        if state.now_ms() >= until
            && state
                .down_until
                .compare_exchange(until, state.until(), Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let replica = replica.clone();
            runtime.spawn(async move {
                let _ = probe_replica(&replica).await;
            });
        }
        None
    }

    /// Pings the replica now and updates its breaker: `None` without a replica.
    pub async fn ping_replica(&self) -> Option<bool> {
        let replica = self.replica.as_ref()?;
        Some(probe_replica(replica).await)
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
        match self.attempt(query, operation).await {
            Attempt::Done(value) => Ok(value),
            Attempt::Failed(error) => Err(map_error(error)),
            Attempt::TimedOut => Err(ApiError::unavailable(RETRY_AFTER_SECONDS)),
        }
    }

    /// A read: on the replica when it is in use, on the primary when the replica's connection
    /// fails (`rampart_replica_fallback_total`), retried on a lost serialisation conflict. The
    /// closure gets the pool to run on and may be called more than once.
    pub async fn read<T, F, Fut>(&self, query: &'static str, operation: F) -> Result<T, ApiError>
    where
        F: FnMut(Pool) -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        self.read_mapped(query, operation, map_sqlx_error).await
    }

    /// [`Db::read`] with a caller-chosen mapping of database errors.
    pub async fn read_mapped<T, F, Fut>(
        &self,
        query: &'static str,
        operation: F,
        map_error: impl FnOnce(sqlx::Error) -> ApiError,
    ) -> Result<T, ApiError>
    where
        F: FnMut(Pool) -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        self.call(query, true, operation, map_error).await
    }

    /// A statement on the primary, retried on a lost serialisation conflict or deadlock (it ran
    /// in its own implicit transaction, so nothing of it was kept); the closure may be called
    /// more than once.
    pub async fn write<T, F, Fut>(&self, query: &'static str, operation: F) -> Result<T, ApiError>
    where
        F: FnMut(Pool) -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        self.write_mapped(query, operation, map_sqlx_error).await
    }

    /// [`Db::write`] with a caller-chosen mapping of database errors.
    pub async fn write_mapped<T, F, Fut>(
        &self,
        query: &'static str,
        operation: F,
        map_error: impl FnOnce(sqlx::Error) -> ApiError,
    ) -> Result<T, ApiError>
    where
        F: FnMut(Pool) -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        self.call(query, false, operation, map_error).await
    }

    async fn call<T, F, Fut>(
        &self,
        query: &'static str,
        read: bool,
        mut operation: F,
        map_error: impl FnOnce(sqlx::Error) -> ApiError,
    ) -> Result<T, ApiError>
    where
        F: FnMut(Pool) -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        let mut replica = if read {
            self.usable_replica().map(|_| ())
        } else {
            None
        };
        let mut attempt = 1;
        loop {
            let pool = match (replica, &self.replica) {
                (Some(()), Some(r)) => r.pool.clone(),
                _ => self.primary.clone(),
            };
            match self.attempt(query, operation(pool)).await {
                Attempt::Done(value) => return Ok(value),
                // A replica that hangs (black-holed, connections held open) never fails a
                // connection, it only times out: treat that as down too, and read from the
                // primary (a statement that is merely slow costs one rerun per retry window).
                Attempt::TimedOut if replica.is_some() => {
                    self.replica_failed(&sqlx::Error::PoolTimedOut);
                    metrics::counter!("rampart_replica_fallback_total").increment(1);
                    replica = None;
                }
                Attempt::TimedOut => return Err(ApiError::unavailable(RETRY_AFTER_SECONDS)),
                Attempt::Failed(error) if replica.is_some() && is_connection_failure(&error) => {
                    // The replica, not the statement, failed: the read runs on the primary.
                    self.replica_failed(&error);
                    metrics::counter!("rampart_replica_fallback_total").increment(1);
                    replica = None;
                }
                Attempt::Failed(error)
                    if is_serialization_failure(&error) && attempt < CONFLICT_ATTEMPTS =>
                {
                    metrics::counter!("rampart_conflict_retries_total", "query" => query)
                        .increment(1);
                    conflict_backoff(attempt).await;
                    attempt += 1;
                }
                Attempt::Failed(error) => return Err(map_error(error)),
            }
        }
    }

    /// One run of an operation under the statement timeout, measured.
    async fn attempt<T, F>(&self, query: &'static str, operation: F) -> Attempt<T>
    where
        F: Future<Output = Result<T, sqlx::Error>>,
    {
        let started = Instant::now();
        let outcome = tokio::time::timeout(self.statement_timeout, operation).await;
        metrics::histogram!("db_query_duration_seconds", "query" => query)
            .record(started.elapsed().as_secs_f64());
        match outcome {
            Ok(Ok(value)) => Attempt::Done(value),
            Ok(Err(error)) => Attempt::Failed(error),
            Err(_) => {
                metrics::counter!("db_timeouts_total", "query" => query).increment(1);
                tracing::warn!(
                    query,
                    timeout_ms = self.statement_timeout.as_millis() as u64,
                    "database statement timed out"
                );
                Attempt::TimedOut
            }
        }
    }

    fn replica_failed(&self, error: &sqlx::Error) {
        if let Some(replica) = &self.replica {
            mark_replica_down(replica, error);
        }
    }

    /// Checks that the primary answers `SELECT 1` within a second.
    pub async fn ping(&self) -> Result<(), ApiError> {
        ping_pool(&self.primary).await.map_err(|error| match error {
            Some(error) => map_sqlx_error(error),
            None => ApiError::unavailable(RETRY_AFTER_SECONDS),
        })
    }

    /// Publishes pool gauges (size, idle, in use) for `/metrics`.
    pub fn record_pool_metrics(&self) {
        let mut pools = vec![("primary", &self.primary)];
        if let Some(replica) = &self.replica {
            pools.push(("replica", &replica.pool));
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

/// `SELECT 1` within a second; `Err(None)` when it took longer.
async fn ping_pool(pool: &Pool) -> Result<(), Option<sqlx::Error>> {
    let check = async {
        match pool {
            Pool::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()),
            Pool::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()),
        }
    };
    match tokio::time::timeout(Duration::from_secs(1), check).await {
        Ok(result) => result.map_err(Some),
        Err(_) => Err(None),
    }
}

/// Pings the replica and sets its breaker from the answer.
async fn probe_replica(replica: &Replica) -> bool {
    match ping_pool(&replica.pool).await {
        Ok(()) => {
            if replica.state.down_until.swap(0, Ordering::SeqCst) != 0 {
                tracing::info!("read replica answers again: reads go back to it");
            }
            metrics::gauge!("rampart_dependency_up", "dependency" => "replica").set(1.0);
            true
        }
        Err(Some(error)) => {
            mark_replica_down(replica, &error);
            false
        }
        Err(None) => {
            mark_replica_down(replica, &sqlx::Error::PoolTimedOut);
            false
        }
    }
}

fn mark_replica_down(replica: &Replica, error: &sqlx::Error) {
    let state = &replica.state;
    if state.down_until.swap(state.until(), Ordering::SeqCst) == 0 {
        tracing::warn!(
            error = %error,
            retry_ms = state.retry.as_millis() as u64,
            "read replica unavailable: reads use the primary"
        );
    }
    metrics::gauge!("rampart_dependency_up", "dependency" => "replica").set(0.0);
}

/// Maps a sqlx error: outages are 503, constraint violations 409/422, the rest 500.
pub fn map_sqlx_error(error: sqlx::Error) -> ApiError {
    match &error {
        sqlx::Error::RowNotFound => ApiError::not_found(),
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => {
            tracing::warn!(error = %error, "database unavailable");
            metrics::counter!("db_unavailable_total").increment(1);
            ApiError::unavailable(RETRY_AFTER_SECONDS)
        }
        sqlx::Error::Database(db) => {
            // 57014: query_canceled (statement_timeout); 57P01..03: admin shutdown / cannot connect now.
            if is_serialization_failure(&error) {
                // Lost a serialisation conflict or a deadlock: nothing was kept, and the same
                // request sent again can succeed. Not a server fault.
                metrics::counter!("rampart_conflicts_total").increment(1);
                return conflict_exhausted().with_source(error);
            }
            let code = db.code();
            match code.as_deref() {
                Some("57014") | Some("57P01") | Some("57P02") | Some("57P03") => {
                    tracing::warn!(error = %error, "database unavailable");
                    ApiError::unavailable(RETRY_AFTER_SECONDS)
                }
                // Class 08, connection exceptions: the database is unreachable, not wrong.
                Some(code) if code.starts_with("08") => {
                    tracing::warn!(error = %error, "database unavailable");
                    metrics::counter!("db_unavailable_total").increment(1);
                    ApiError::unavailable(RETRY_AFTER_SECONDS)
                }
                // Class 22 codes the request's own values cause: a NUL or other character the
                // encoding cannot hold, a string longer than its column, a number or date out of
                // range. The client can fix those; they are not server faults.
                // Also text that does not read as the column's type (22P02, in a custom query's
                // cast), a bad escape or regular expression in a LIKE/SIMILAR pattern built from
                // input (22019, 22025, 2201B), an invalid parameter value (22023); and SQLite's
                // SQLITE_TOOBIG (18), a string or blob over its limit.
                Some("22021") | Some("22P05") | Some("22001") | Some("22003") | Some("22007")
                | Some("22008") | Some("22P02") | Some("22019") | Some("22025") | Some("2201B")
                | Some("22023") | Some("18") => ApiError::new(ErrorCode::BadRequest)
                    .with_message("a value in the request cannot be stored (for example a NUL character, or text or a number out of range)")
                    .with_source(error),
                // A CHECK constraint refused the row: a rule of the data the request broke
                // (422, like a dangling reference), not a server fault.
                _ if db.is_check_violation() => ApiError::new(ErrorCode::Unprocessable)
                    .with_message("a value in the request breaks a rule of the stored data")
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
