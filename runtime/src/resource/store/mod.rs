//! [`Store`]: runs a resource's statements on the pool (reads on the replica when there is
//! one, on the primary while it is down) or inside a [`Tx`] ([`Store::transaction`] runs the
//! work again when it loses a serialisation conflict or deadlock), each under the statement
//! timeout, with errors mapped to the envelope: not found and not yours are one 404, a stale
//! version 409 `VERSION_CONFLICT` (or 412 for a stale `If-Match`), a unique violation 409
//! `CONFLICT` naming the field, a foreign key violation 422.
//!
//! Statements run through the database layer's one backend dispatch
//! ([`crate::db::statement`]); what a statement answers is the type asked for (`Vec<T>`,
//! `Option<T>`, rows changed, one integer). The CRUD methods are in `crud`, the meaning of
//! their errors in `errors`.

mod cached;
mod crud;
mod errors;

use std::future::Future;
use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::Resource;
use super::cursor::CursorKey;
use super::sql::{FixedStatements, Statement};
use crate::db::statement::{Affected, Answer, Scalar};
use crate::db::{Db, Isolation, Row, Target, Tx, Value};
use crate::error::ApiError;
use errors::map_error;

#[derive(Clone)]
enum Executor {
    Db(Db),
    Tx(Tx),
}

/// The data access of resource `R`: the generated repository dereferences to it.
pub struct Store<R> {
    executor: Executor,
    key: CursorKey,
    marker: PhantomData<fn() -> R>,
}

impl<R> Clone for Store<R> {
    fn clone(&self) -> Self {
        Self {
            executor: self.executor.clone(),
            key: self.key.clone(),
            marker: PhantomData,
        }
    }
}

impl<R> std::fmt::Debug for Store<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

impl<S: Send + Sync, R> FromRequestParts<S> for Store<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let key = crate::context::shared::<CursorKey>(&parts.extensions)
            .cloned()
            .ok_or_else(|| {
                ApiError::internal(
                    "the cursor key is missing: build the router with Api::into_router",
                )
            })?;
        let db = crate::context::shared::<Db>(&parts.extensions)
            .cloned()
            .ok_or_else(|| ApiError::internal("no database configured for this app"))?;
        Ok(Self {
            executor: Executor::Db(db),
            key,
            marker: PhantomData,
        })
    }
}

impl<R: Resource> Store<R> {
    /// A store on the app's database.
    pub fn new(db: Db, key: CursorKey) -> Self {
        Self {
            executor: Executor::Db(db),
            key,
            marker: PhantomData,
        }
    }

    /// The same store, running its statements inside `tx`.
    pub fn in_tx(&self, tx: &Tx) -> Self {
        Self {
            executor: Executor::Tx(tx.clone()),
            key: self.key.clone(),
            marker: PhantomData,
        }
    }

    /// Begins a transaction on this store's database (see [`Store::in_tx`]). Its statements
    /// are not run again on a conflict: a lost serialisation conflict or deadlock is a 409.
    /// [`Store::transaction`] retries instead.
    pub async fn begin(&self) -> Result<Tx, ApiError> {
        match &self.executor {
            Executor::Db(db) => Tx::begin(db).await,
            Executor::Tx(_) => Err(ApiError::internal("transactions do not nest")),
        }
    }

    /// Runs `body` in a transaction and commits what it did. When a statement or the commit
    /// loses a serialisation conflict or deadlock (PostgreSQL 40001 / 40P01, SQLite busy), the
    /// transaction is rolled back and `body` runs again, up to four times in all with a short
    /// jittered backoff; then the answer is 409 `CONFLICT` (never a 500). An error `body`
    /// returns rolls back and is returned as is. `body` gets a handle on the transaction (bind
    /// stores to it with `in_tx`), must leave commit and rollback to this method, and must do
    /// nothing outside the database that it cannot repeat.
    ///
    /// ```text
    /// let scope = &scope;
    /// let project = projects.transaction(|tx| {
    ///     let (projects, tasks) = (projects.in_tx(&tx), tasks.in_tx(&tx));
    ///     async move {
    ///         tasks.archive_in_project(scope, id, now).await?;
    ///         projects.get(scope, id).await
    ///     }
    /// }).await?;
    /// ```
    ///
    /// (A closure returning an `async move` block rather than an async closure: the future of
    /// an async closure cannot yet be proven `Send`, which a handler's future must be.)
    pub async fn transaction<T, F, Fut>(&self, body: F) -> Result<T, ApiError>
    where
        F: FnMut(Tx) -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        self.transaction_with(Isolation::Default, body).await
    }

    /// [`Store::transaction`] at an isolation level.
    pub async fn transaction_with<T, F, Fut>(
        &self,
        isolation: Isolation,
        body: F,
    ) -> Result<T, ApiError>
    where
        F: FnMut(Tx) -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let Executor::Db(db) = &self.executor else {
            return Err(ApiError::internal("transactions do not nest"));
        };
        db.transaction(isolation, body).await
    }

    /// Runs one statement where `target` says (inside the transaction, when the store is
    /// bound to one), answering `A`.
    async fn perform<A: Answer>(
        &self,
        label: &'static str,
        target: Target,
        statement: Statement,
    ) -> Result<A, ApiError> {
        match &self.executor {
            Executor::Db(db) => db.fetch(label, target, statement, map_error::<R>).await,
            Executor::Tx(tx) => tx.fetch(label, statement, map_error::<R>).await,
        }
    }

    /// Runs a statement that writes, then makes the response cache's entries tagged with this
    /// resource's table stale: at once outside a transaction, after the commit inside one
    /// (before the answer leaves either way, so the writer's next read is fresh); and so are the
    /// tables it `cascades` to.
    async fn mutate<A: Answer>(
        &self,
        label: &'static str,
        statement: Statement,
    ) -> Result<A, ApiError> {
        let answer = self.perform(label, Target::Write, statement).await;
        // The tables the database changes with this one (`cascades`) are stale as well.
        match &self.executor {
            Executor::Db(db) if R::SPEC.cascades.is_empty() => {
                db.tags().bump(&[R::SPEC.table]).await;
            }
            Executor::Db(db) => {
                let mut tags = Vec::with_capacity(1 + R::SPEC.cascades.len());
                tags.push(R::SPEC.table);
                tags.extend_from_slice(R::SPEC.cascades);
                db.tags().bump(&tags).await;
            }
            Executor::Tx(tx) => {
                tx.touch(R::SPEC.table);
                for table in R::SPEC.cascades {
                    tx.touch(table);
                }
            }
        }
        answer
    }

    /// Runs a custom statement: one that may write (`Target::Write`) as [`Store::mutate`].
    async fn custom<A: Answer>(
        &self,
        label: &'static str,
        target: Target,
        statement: Statement,
    ) -> Result<A, ApiError> {
        match target {
            Target::Write => self.mutate(label, statement).await,
            Target::Read => self.perform(label, target, statement).await,
        }
    }

    /// This resource's fixed statements, written on first use.
    fn fixed() -> &'static FixedStatements {
        R::statements().get(&R::SPEC)
    }

    /// Every row of a statement (custom queries).
    pub async fn fetch_all<T: Row>(
        &self,
        label: &'static str,
        target: Target,
        sql: &'static str,
        values: Vec<Value>,
    ) -> Result<Vec<T>, ApiError> {
        self.custom(label, target, Statement::literal(sql, values))
            .await
    }

    /// The first row of a statement, if any (custom queries).
    pub async fn fetch_optional<T: Row>(
        &self,
        label: &'static str,
        target: Target,
        sql: &'static str,
        values: Vec<Value>,
    ) -> Result<Option<T>, ApiError> {
        self.custom(label, target, Statement::literal(sql, values))
            .await
    }

    /// The first row of a statement; none is a 404 (custom queries).
    pub async fn fetch_one<T: Row>(
        &self,
        label: &'static str,
        target: Target,
        sql: &'static str,
        values: Vec<Value>,
    ) -> Result<T, ApiError> {
        self.fetch_optional(label, target, sql, values)
            .await?
            .ok_or_else(ApiError::not_found)
    }

    /// The number of rows a statement changed (custom queries).
    pub async fn execute(
        &self,
        label: &'static str,
        sql: &'static str,
        values: Vec<Value>,
    ) -> Result<u64, ApiError> {
        let statement = Statement::literal(sql, values);
        let Affected(count) = self.mutate(label, statement).await?;
        Ok(count)
    }

    /// The integer in the first column of the first row; none is a 404 (custom queries).
    pub async fn fetch_scalar(
        &self,
        label: &'static str,
        target: Target,
        sql: &'static str,
        values: Vec<Value>,
    ) -> Result<i64, ApiError> {
        let statement = Statement::literal(sql, values);
        let Scalar(value) = self.custom(label, target, statement).await?;
        value.ok_or_else(ApiError::not_found)
    }
}
