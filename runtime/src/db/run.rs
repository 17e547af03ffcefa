//! Running work on the database: each attempt under the statement timeout and measured, reads
//! on the replica with a fallback to the primary, lost serialisation conflicts run again, and
//! errors mapped to the envelope.

use std::future::Future;
use std::time::Instant;

use super::errors::{
    CONFLICT_ATTEMPTS, RETRY_AFTER_SECONDS, conflict_backoff, is_connection_failure,
    is_serialization_failure, map_sqlx_error,
};
use super::replica::mark_replica_down;
use super::statement::{Answer, Statement};
use super::{Db, Pool};
use crate::error::ApiError;

/// Whether a statement reads (replica when configured) or writes (always the primary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A read: the replica pool when one is configured (the primary while it is down).
    Read,
    /// A write, or a read that must see the latest writes: the primary.
    Write,
}

/// How one attempt of a statement ended before its error is mapped.
enum Attempt<T> {
    Done(T),
    Failed(sqlx::Error),
    TimedOut,
}

/// The line of one statement (`RAMPART_LOG_STATEMENTS`): its name (`query`, the label of
/// `db_query_duration_seconds`), never its SQL or values, and how long it took; warn when
/// slower than `DATABASE_SLOW_QUERY`. sqlx's own slow-statement warning stays on as well: it
/// covers app code's sqlx too, and shows the SQL text with its placeholders, never values.
fn log_statement(
    query: &'static str,
    elapsed: std::time::Duration,
    slow: std::time::Duration,
    ok: bool,
) {
    let duration_ms = elapsed.as_secs_f64() * 1000.0;
    if elapsed >= slow {
        tracing::warn!(target: STATEMENT_TARGET, query, duration_ms, ok, "slow database statement");
    } else {
        tracing::info!(target: STATEMENT_TARGET, query, duration_ms, ok, "database statement");
    }
}

/// The target of the statement lines.
const STATEMENT_TARGET: &str = "rampart::db";

impl Db {
    /// Runs one database operation with the statement timeout, records its duration in
    /// `db_query_duration_seconds{query}`, and maps failures to the envelope. It runs any
    /// future, so a write through it is not recorded for read-your-writes: write with
    /// [`Db::write`].
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
            match self.usable_replica() {
                Some(_) => {
                    let route = self.recent.route().await;
                    route.count();
                    (!route.primary()).then_some(())
                }
                None => None,
            }
        } else {
            None
        };
        let outcome = self
            .attempts(query, replica.take(), &mut operation, map_error)
            .await;
        if !read && self.replica.is_some() {
            // Even a failed write may have been applied (a timeout after the commit).
            self.recent.wrote().await;
        }
        outcome
    }

    async fn attempts<T, F, Fut>(
        &self,
        query: &'static str,
        mut replica: Option<()>,
        operation: &mut F,
        map_error: impl FnOnce(sqlx::Error) -> ApiError,
    ) -> Result<T, ApiError>
    where
        F: FnMut(Pool) -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
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
        let timed = tokio::time::timeout(self.statement_timeout, operation);
        // A client span per attempt, named by the statement's label (never its values).
        let system = match self.backend() {
            super::Backend::Sqlite => "sqlite",
            super::Backend::Postgres => "postgresql",
        };
        let outcome = crate::spans::in_span(crate::spans::statement(query, system), timed).await;
        let elapsed = started.elapsed();
        metrics::histogram!("db_query_duration_seconds", "query" => query)
            .record(elapsed.as_secs_f64());
        if let Some(slow) = self.statement_lines {
            log_statement(query, elapsed, slow, matches!(outcome, Ok(Ok(_))));
        }
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

    /// Runs one of rampart's statements where `target` says, answering `A` (every row, the
    /// first row, the rows changed or one integer): a read through [`Db::read`]'s replica
    /// fallback, a write on the primary, either run again on a lost serialisation conflict.
    pub(crate) async fn fetch<A: Answer>(
        &self,
        label: &'static str,
        target: Target,
        statement: Statement,
        map_error: impl FnOnce(sqlx::Error) -> ApiError,
    ) -> Result<A, ApiError> {
        // Called again for a retry (a lost conflict, or a read moving off a failed replica),
        // so each run gets its own copy of the statement (a borrowed text and the values).
        let statement = &statement;
        let operation = |pool: Pool| {
            let statement = statement.clone();
            async move { pool.run::<A>(statement).await }
        };
        self.call(label, target == Target::Read, operation, map_error)
            .await
    }
}
