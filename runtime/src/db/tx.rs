//! Transactions on the primary, and the loop that runs a transaction again when it loses a
//! serialisation conflict or deadlock.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::{Postgres, Sqlite};
use tokio::sync::Mutex;

use super::errors::{
    CONFLICT_ATTEMPTS, conflict_backoff, conflict_exhausted, is_serialization_failure,
    map_sqlx_error,
};
use super::statement::{Answer, Conn, Statement};
use super::{Db, Pool};
use crate::error::ApiError;

enum TxConn {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl TxConn {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            TxConn::Sqlite(tx) => Conn::Sqlite(&mut *tx),
            TxConn::Postgres(tx) => Conn::Postgres(&mut *tx),
        }
    }
}

/// Something to run once a transaction has committed ([`Tx::after_commit`]).
type CommitHook = Box<dyn FnOnce() + Send>;

/// The isolation level of a transaction on PostgreSQL (SQLite's transactions are always
/// serialisable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Isolation {
    /// The server's default (`READ COMMITTED` unless configured otherwise).
    #[default]
    Default,
    /// `REPEATABLE READ`.
    RepeatableRead,
    /// `SERIALIZABLE`: concurrent transactions behave as if run one after another; the loser of
    /// a conflict fails with 40001 and [`Store::transaction_with`](crate::Store::transaction_with) runs it again.
    Serializable,
}

/// A transaction on the primary. Stores bound to it ([`Store::in_tx`](crate::Store::in_tx)) run their statements
/// inside it; [`Tx::commit`] makes them durable, and dropping it (an early `?`) rolls back.
/// Prefer [`Store::transaction`](crate::Store::transaction), which also runs the work again when it loses a
/// serialisation conflict or a deadlock.
#[derive(Clone)]
pub struct Tx {
    db: Db,
    conn: Arc<Mutex<Option<TxConn>>>,
    /// A statement (or the commit) lost a serialisation conflict or deadlock.
    conflicted: Arc<AtomicBool>,
    /// Run once the commit succeeded (waking the job outbox relay, say).
    after_commit: Arc<std::sync::Mutex<Vec<CommitHook>>>,
    /// The response cache's tags of the tables written, bumped once the commit succeeded.
    touched: Arc<std::sync::Mutex<std::collections::BTreeSet<&'static str>>>,
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tx")
    }
}

impl Tx {
    /// Begins a transaction on the primary.
    pub async fn begin(db: &Db) -> Result<Self, ApiError> {
        Self::begin_with(db, Isolation::Default).await
    }

    /// Begins a transaction on the primary at an isolation level.
    pub async fn begin_with(db: &Db, isolation: Isolation) -> Result<Self, ApiError> {
        let begin = match isolation {
            Isolation::Default => None,
            Isolation::RepeatableRead => Some("BEGIN ISOLATION LEVEL REPEATABLE READ"),
            Isolation::Serializable => Some("BEGIN ISOLATION LEVEL SERIALIZABLE"),
        };
        let conn = db
            .run("transaction.begin", async {
                Ok(match (db.primary(), begin) {
                    (Pool::Sqlite(pool), _) => TxConn::Sqlite(pool.begin().await?),
                    (Pool::Postgres(pool), None) => TxConn::Postgres(pool.begin().await?),
                    (Pool::Postgres(pool), Some(sql)) => {
                        TxConn::Postgres(pool.begin_with(sql).await?)
                    }
                })
            })
            .await?;
        Ok(Self {
            db: db.clone(),
            conn: Arc::new(Mutex::new(Some(conn))),
            conflicted: Arc::new(AtomicBool::new(false)),
            after_commit: Arc::default(),
            touched: Arc::default(),
        })
    }

    /// Commits. A transaction already finished is a 500 (a bug in the caller); one that lost a
    /// serialisation conflict or deadlock is a 409 the client can retry.
    pub async fn commit(self) -> Result<(), ApiError> {
        let conn = self.conn.lock().await.take();
        let conn = conn.ok_or_else(|| ApiError::internal("the transaction has already ended"))?;
        if self.conflicted() {
            // PostgreSQL would answer the COMMIT of an aborted transaction with a rollback.
            drop(conn);
            return Err(conflict_exhausted());
        }
        let flag = self.conflicted.clone();
        let hooks = self.after_commit.clone();
        self.db
            .run_mapped(
                "transaction.commit",
                async {
                    match conn {
                        TxConn::Sqlite(tx) => tx.commit().await,
                        TxConn::Postgres(tx) => tx.commit().await,
                    }
                },
                |error| flag_conflict(&flag, error, map_sqlx_error),
            )
            .await?;
        let hooks = std::mem::take(
            &mut *hooks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for hook in hooks {
            hook();
        }
        let touched: Vec<&'static str> = std::mem::take(
            &mut *self
                .touched
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .into_iter()
        .collect();
        self.db.tags().bump(&touched).await;
        if self.db.replica.is_some() {
            self.db.recent.wrote().await;
        }
        Ok(())
    }

    /// Notes that this transaction wrote to the table behind the cache tag `tag`: the tag is
    /// bumped after the commit (never after a rollback).
    pub(crate) fn touch(&self, tag: &'static str) {
        self.touched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(tag);
    }

    /// Runs `hook` after this transaction commits (never after a rollback). For signals only:
    /// the commit has happened, so a hook cannot fail it.
    pub fn after_commit(&self, hook: impl FnOnce() + Send + 'static) {
        self.after_commit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Box::new(hook));
    }

    /// Rolls back explicitly (dropping the last handle does the same).
    pub async fn rollback(self) -> Result<(), ApiError> {
        let conn = self.conn.lock().await.take();
        match conn {
            Some(TxConn::Sqlite(tx)) => self.db.run("transaction.rollback", tx.rollback()).await,
            Some(TxConn::Postgres(tx)) => self.db.run("transaction.rollback", tx.rollback()).await,
            None => Ok(()),
        }
    }

    /// Whether a statement of this transaction, or its commit, lost a serialisation conflict
    /// or a deadlock (the transaction can only be rolled back and run again).
    pub fn conflicted(&self) -> bool {
        self.conflicted.load(Ordering::SeqCst)
    }

    /// Runs one of rampart's statements inside the transaction, under the statement timeout;
    /// a lost conflict is noted on the transaction (it is not run again here: the whole
    /// transaction is, by [`Db::transaction`]).
    pub(crate) async fn fetch<A: Answer>(
        &self,
        label: &'static str,
        statement: Statement,
        map_error: impl FnOnce(sqlx::Error) -> ApiError,
    ) -> Result<A, ApiError> {
        let mut guard = self.conn.lock().await;
        let conn = guard
            .as_mut()
            .ok_or_else(|| ApiError::internal("the transaction has already ended"))?;
        let flag = &self.conflicted;
        self.db
            .run_mapped(label, conn.conn().run::<A>(statement), |error| {
                flag_conflict(flag, error, map_error)
            })
            .await
    }
}

/// Maps an error, noting on the transaction when it is a lost conflict.
fn flag_conflict(
    flag: &AtomicBool,
    error: sqlx::Error,
    map: impl FnOnce(sqlx::Error) -> ApiError,
) -> ApiError {
    if is_serialization_failure(&error) {
        flag.store(true, Ordering::SeqCst);
    }
    map(error)
}

impl Db {
    /// Runs `body` in a transaction at `isolation` and commits what it did; on a lost
    /// serialisation conflict or deadlock, rolls back and runs it again (four runs in all, with
    /// a jittered backoff), then 409. See `Store::transaction`, which is how apps reach it.
    pub(crate) async fn transaction<T, F, Fut>(
        &self,
        isolation: Isolation,
        mut body: F,
    ) -> Result<T, ApiError>
    where
        F: FnMut(Tx) -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let db = self;
        let mut attempt = 1;
        loop {
            let tx = Tx::begin_with(db, isolation).await?;
            let outcome = match body(tx.clone()).await {
                Ok(value) => tx.clone().commit().await.map(|()| value),
                Err(error) => {
                    let _ = tx.clone().rollback().await;
                    Err(error)
                }
            };
            match outcome {
                Err(_) if tx.conflicted() && attempt < CONFLICT_ATTEMPTS => {
                    metrics::counter!("rampart_conflict_retries_total", "query" => "transaction")
                        .increment(1);
                    conflict_backoff(attempt).await;
                    attempt += 1;
                }
                // Whatever `body` made of the lost conflict, the client can retry it.
                Err(_) if tx.conflicted() => return Err(conflict_exhausted()),
                other => return other,
            }
        }
    }
}
