//! Database settings and set-up errors. The configuration module fills [`DbConfig`] from the
//! environment; the settings belong here, with the pools they configure.

use std::fmt;
use std::time::Duration;

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
    /// One line per statement run through [`crate::db::Db`]'s runner, with its name and
    /// duration (`RAMPART_LOG_STATEMENTS`): info, warn when slower than `slow_query`.
    pub log_statements: bool,
    /// How long a replica that failed is left alone before it is probed again (reads go to
    /// the primary meanwhile).
    pub replica_retry: Duration,
    /// How long a user's reads go to the primary after its write (`RAMPART_READ_YOUR_WRITES`,
    /// 5 s; zero: off). Only matters with a replica.
    pub read_your_writes: Duration,
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
            .field("slow_query", &self.slow_query)
            .field("log_statements", &self.log_statements)
            .field("replica_retry", &self.replica_retry)
            .field("read_your_writes", &self.read_your_writes)
            .finish()
    }
}

impl DbConfig {
    /// Defaults for a URL: pool 5..=25, acquire 3 s, statements 5 s, slow 500 ms, no statement
    /// lines, replica retry 5 s, read-your-writes 5 s.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            replica_url: None,
            min_connections: 5,
            max_connections: 25,
            acquire_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(5),
            slow_query: Duration::from_millis(500),
            log_statements: false,
            replica_retry: Duration::from_secs(5),
            read_your_writes: super::ryw::DEFAULT_WINDOW,
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
