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
//!
//! Layout: `statement` is the one backend dispatch of rampart's own statements (the
//! resource store's and identity's), `run` the timed, retried, replica-aware execution,
//! `tx` transactions, `replica` the replica's breaker, `errors` the mapping of database
//! errors, `migrations` and `settings` what their names say.

mod errors;
mod migrations;
mod replica;
mod run;
mod ryw;
mod settings;
pub(crate) mod statement;
mod tx;
mod value;

use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::error::ApiError;
use errors::RETRY_AFTER_SECONDS;
use replica::{Replica, ping_pool};
use statement::{Answer, Conn};

pub use errors::{is_connection_failure, is_serialization_failure, map_sqlx_error};
pub use migrations::Migrations;
pub use run::Target;
pub use ryw::{DEFAULT_WINDOW as DEFAULT_READ_YOUR_WRITES, RecentWrites};
pub use settings::{DbConfig, DbError};
pub use statement::Row;
// Run only by rampart's own code (the store, identity); app code writes sqlx (`with_pool!`).
pub(crate) use statement::Statement;
pub use tx::{Isolation, Tx};
pub use value::{IntoValue, JsonDocument, Kind, Value, now, storable};

/// Runs the same sqlx code on whichever backend a [`Pool`] is, so a statement is written once:
///
/// ```text
/// let rows: Vec<(Uuid, String)> = rampart::with_pool!(db.reader(), |pool| {
///     sqlx::query_as("SELECT id, title FROM notes WHERE owner_id = $1").bind(owner).fetch_all(pool).await
/// })?;
/// ```
///
/// (sqlx's `Any` driver would need one code path too, but cannot carry `Uuid` or `DateTime`.)
///
/// This is for app code that writes its own sqlx; rampart's own statements (the resource store's,
/// identity's) go through the typed dispatch of `db::statement` instead.
#[macro_export]
macro_rules! with_pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            $crate::db::Pool::Sqlite($p) => $body,
            $crate::db::Pool::Postgres($p) => $body,
        }
    };
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

    /// Runs one of rampart's statements on a connection of this pool.
    pub(crate) async fn run<A: Answer>(&self, statement: Statement) -> Result<A, sqlx::Error> {
        match self {
            Pool::Sqlite(pool) => {
                Conn::Sqlite(&mut *pool.acquire().await?)
                    .run(statement)
                    .await
            }
            Pool::Postgres(pool) => {
                Conn::Postgres(&mut *pool.acquire().await?)
                    .run(statement)
                    .await
            }
        }
    }

    /// Open connections, idle ones, and the most the pool opens.
    fn stats(&self) -> (u32, usize, u32) {
        match self {
            Pool::Sqlite(pool) => (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            ),
            Pool::Postgres(pool) => (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            ),
        }
    }
}

/// The app's database: a primary pool, an optional replica, and the statement timeout.
#[derive(Debug, Clone)]
pub struct Db {
    primary: Pool,
    replica: Option<Replica>,
    statement_timeout: Duration,
    /// `RAMPART_LOG_STATEMENTS`: the slow threshold of the statement lines, when they are on.
    statement_lines: Option<Duration>,
    /// The response cache's tag versions: writes through a resource's store bump its table's
    /// tag (after the commit, for a transaction). Shared by every clone.
    tags: crate::cache::Tags,
    /// The cache of `#[query(.., cache(..))]` reads, which is also the app's response cache
    /// (one byte budget for both): made on first use. Shared by every clone.
    cache: Arc<OnceLock<crate::cache::ResponseCache>>,
    /// Who wrote within the read-your-writes window (their reads skip the replica). Shared by
    /// every clone.
    recent: RecentWrites,
}

/// A pool for `url`; `lazy`: connections are opened on first use (a replica down at start).
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

impl Db {
    /// Connects the primary (and the replica when configured). A replica that cannot be reached
    /// at start does not stop the app: it starts with reads on the primary and the replica is
    /// probed until it answers.
    pub async fn connect(config: &DbConfig) -> Result<Self, DbError> {
        let primary = connect_pool(&config.url, config, false).await?;
        let replica = match &config.replica_url {
            Some(url) => Some(Replica::connect(url, config).await?),
            None => None,
        };
        Ok(Self {
            primary,
            replica,
            statement_timeout: config.statement_timeout,
            statement_lines: config.log_statements.then_some(config.slow_query),
            tags: crate::cache::Tags::default(),
            cache: Arc::default(),
            recent: RecentWrites::new(config.read_your_writes),
        })
    }

    /// The cache of cached queries and responses, holding at most `max_bytes` in process when
    /// this is its first use (the app makes it at start with `RAMPART_CACHE_MAX_BYTES`).
    pub fn cache_sized(&self, max_bytes: u64) -> &crate::cache::ResponseCache {
        self.cache
            .get_or_init(|| crate::cache::ResponseCache::new(max_bytes, self.tags.clone()))
    }

    /// The cache of cached queries and responses.
    pub fn cache(&self) -> &crate::cache::ResponseCache {
        self.cache_sized(crate::cache::DEFAULT_MAX_BYTES)
    }

    /// The tag versions of the response cache that writes to this database bump.
    pub fn tags(&self) -> &crate::cache::Tags {
        &self.tags
    }

    /// The records of who wrote recently, whose reads go to the primary (connect them to
    /// Redis so that every instance honours them: `App::with_redis` does).
    pub fn recent_writes(&self) -> &RecentWrites {
        &self.recent
    }

    /// The backend of the primary.
    pub fn backend(&self) -> Backend {
        self.primary.backend()
    }

    /// The pool for writes and read-after-write.
    pub fn primary(&self) -> &Pool {
        &self.primary
    }

    /// The pool for reads: the replica when configured and not marked down, else the primary;
    /// the primary too for a request that must read it (a cache refill) or whose user wrote
    /// within the read-your-writes window, as far as this instance knows without asking Redis
    /// (its own records, or what the request already found out). Prefer [`Db::read`], which
    /// also asks Redis about other instances' writes and falls back when the replica fails
    /// under the statement.
    pub fn reader(&self) -> &Pool {
        let Some(replica) = self.usable_replica() else {
            return &self.primary;
        };
        match self.recent.route_now() {
            Some(route) if route.primary() => {
                route.count();
                &self.primary
            }
            Some(route) => {
                route.count();
                replica
            }
            None => replica,
        }
    }

    /// Checks that the primary answers `SELECT 1` within a second.
    pub async fn ping(&self) -> Result<(), ApiError> {
        ping_pool(&self.primary).await.map_err(|error| match error {
            Some(error) => map_sqlx_error(error),
            None => ApiError::unavailable(RETRY_AFTER_SECONDS),
        })
    }

    /// Publishes pool gauges (size, idle, in use, and the maximum) for `/metrics`: read from
    /// the pools when `/metrics` is scraped, so requests pay nothing for them.
    pub fn record_pool_metrics(&self) {
        let mut pools = vec![("primary", &self.primary)];
        if let Some(replica) = &self.replica {
            pools.push(("replica", &replica.pool));
        }
        for (name, pool) in pools {
            let (size, idle, max) = pool.stats();
            let in_use = (size as usize).saturating_sub(idle);
            metrics::gauge!("db_pool_connections", "pool" => name, "state" => "open")
                .set(f64::from(size));
            metrics::gauge!("db_pool_connections", "pool" => name, "state" => "idle")
                .set(idle as f64);
            metrics::gauge!("db_pool_connections", "pool" => name, "state" => "in_use")
                .set(in_use as f64);
            metrics::gauge!("db_pool_max_connections", "pool" => name).set(f64::from(max));
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Db {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        crate::context::shared::<Db>(&parts.extensions)
            .cloned()
            .ok_or_else(|| ApiError::internal("no database configured for this app"))
    }
}
