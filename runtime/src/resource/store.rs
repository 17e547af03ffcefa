//! [`Store`]: runs a resource's statements on the pool (reads on the replica when there is
//! one, on the primary while it is down) or inside a [`Tx`] ([`Store::transaction`] runs the
//! work again when it loses a serialisation conflict or deadlock), each under the statement
//! timeout, with errors mapped to the
//! envelope: not found and not yours are one 404, a stale version 409 `VERSION_CONFLICT` (or
//! 412 for a stale `If-Match`), a unique violation 409 `CONFLICT` naming the field, a foreign
//! key violation 422.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, FromRow, Postgres, Sqlite};
use tokio::sync::Mutex;
use uuid::Uuid;

use super::cursor::CursorKey;
use super::query::{ListQuery, PageRequest};
use super::sql::{self, Expect, Filter, Statement, Window};
use super::value::{BindValues, now};
use super::{Changes, IfMatch, Precondition, Resource, RowScope, ServerFields, Value};
use crate::db::{
    CONFLICT_ATTEMPTS, Db, Pool, conflict_backoff, conflict_exhausted, is_serialization_failure,
    map_sqlx_error,
};
use crate::error::{ApiError, ErrorCode};
use crate::pagination::PageMeta;
use crate::response::Paginated;

/// A type a statement's rows decode into, on both backends (every `#[resource]` is one).
pub trait Row:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}

impl<T> Row for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}

enum TxConn {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

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
    /// a conflict fails with 40001 and [`Store::transaction_with`] runs it again.
    Serializable,
}

/// A transaction on the primary. Stores bound to it ([`Store::in_tx`]) run their statements
/// inside it; [`Tx::commit`] makes them durable, and dropping it (an early `?`) rolls back.
/// Prefer [`Store::transaction`], which also runs the work again when it loses a
/// serialisation conflict or a deadlock.
#[derive(Clone)]
pub struct Tx {
    db: Db,
    conn: Arc<Mutex<Option<TxConn>>>,
    /// A statement (or the commit) lost a serialisation conflict or deadlock.
    conflicted: Arc<AtomicBool>,
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
            .await
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

#[derive(Clone)]
enum Executor {
    Db(Db),
    Tx(Tx),
}

/// Whether a statement reads (replica when configured) or writes (always the primary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A read: the replica pool when one is configured (the primary while it is down).
    Read,
    /// A write, or a read that must see the latest writes: the primary.
    Write,
}

#[derive(Clone, Copy)]
enum Op {
    All,
    Optional,
    Execute,
    Scalar,
}

enum Output<T> {
    Rows(Vec<T>),
    Row(Option<T>),
    Affected(u64),
    Scalar(Option<i64>),
}

macro_rules! perform {
    ($conn:expr, $db:ty, $op:expr, $sql:expr, $values:expr) => {{
        let arguments = <$db as BindValues>::arguments($values).map_err(sqlx::Error::Encode)?;
        let sql = AssertSqlSafe($sql);
        match $op {
            Op::All => sqlx::query_as_with::<$db, T, _>(sql, arguments)
                .fetch_all($conn)
                .await
                .map(Output::Rows),
            Op::Optional => sqlx::query_as_with::<$db, T, _>(sql, arguments)
                .fetch_optional($conn)
                .await
                .map(Output::Row),
            Op::Execute => sqlx::query_with::<$db, _>(sql, arguments)
                .execute($conn)
                .await
                .map(|done| Output::Affected(done.rows_affected())),
            Op::Scalar => sqlx::query_scalar_with::<$db, i64, _>(sql, arguments)
                .fetch_optional($conn)
                .await
                .map(Output::Scalar),
        }
    }};
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
        let app = parts
            .extensions
            .get::<crate::app::App>()
            .ok_or_else(|| ApiError::internal("the app state is missing"))?;
        let db = app
            .db()
            .cloned()
            .ok_or_else(|| ApiError::internal("no database configured for this app"))?;
        Ok(Self {
            executor: Executor::Db(db),
            key: app.cursor_key().clone(),
            marker: PhantomData,
        })
    }
}

fn mismatch(what: &str) -> ApiError {
    ApiError::internal(format!("statement returned an unexpected shape ({what})"))
}

/// Names the column of a unique violation from the database's own words: SQLite's
/// `UNIQUE constraint failed: projects.owner_id, projects.name` or PostgreSQL's
/// `Key (owner_id, name)=(...)` (the values after `=` are never read, let alone sent).
fn conflict_column(
    writable: &[&'static str],
    message: &str,
    detail: Option<&str>,
) -> Option<&'static str> {
    let listed = match detail.and_then(|d| d.strip_prefix("Key (")) {
        Some(rest) => rest.split(")=").next().unwrap_or_default().to_owned(),
        None => message
            .split_once("failed: ")
            .map(|(_, columns)| columns.to_owned())
            .unwrap_or_default(),
    };
    listed
        .split(',')
        .map(|column| column.trim().rsplit('.').next().unwrap_or_default())
        .filter_map(|column| writable.iter().find(|w| **w == column).copied())
        .next_back()
}

fn map_error<R: Resource>(error: sqlx::Error) -> ApiError {
    if let sqlx::Error::Database(db) = &error {
        if db.is_unique_violation() {
            let detail = db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .and_then(|pg| pg.detail());
            let column = conflict_column(R::SPEC.writable, db.message(), detail);
            let mut conflict = ApiError::new(ErrorCode::Conflict)
                .with_message(format!("another {} already has this value", R::SPEC.name));
            if let Some(column) = column {
                conflict = conflict.with_detail(column, "already exists");
            }
            return conflict.with_source(error);
        }
        if db.is_foreign_key_violation() {
            return ApiError::new(ErrorCode::Unprocessable)
                .with_message(format!(
                    "the {} refers to, or is referred to by, another record",
                    R::SPEC.name
                ))
                .with_source(error);
        }
    }
    map_sqlx_error(error)
}

/// A foreign-key violation on delete means other rows still point at this one: a conflict
/// with the current state (409), not an unprocessable request (the 422 of an insert naming a
/// missing row).
fn still_referenced<R: Resource>(error: ApiError) -> ApiError {
    if error.code() == ErrorCode::Unprocessable {
        ApiError::new(ErrorCode::Conflict).with_message(format!(
            "the {} is still referred to by other records; remove or archive them first",
            R::SPEC.name
        ))
    } else {
        error
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
        mut body: F,
    ) -> Result<T, ApiError>
    where
        F: FnMut(Tx) -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let Executor::Db(db) = &self.executor else {
            return Err(ApiError::internal("transactions do not nest"));
        };
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

    async fn perform<T: Row>(
        &self,
        label: &'static str,
        target: Target,
        op: Op,
        statement: Statement,
    ) -> Result<Output<T>, ApiError> {
        let Statement { sql, values, .. } = statement;
        match &self.executor {
            Executor::Db(db) => {
                // Called again for a retry (a lost conflict, or a read moving off a failed
                // replica), so each run gets its own copy of the statement.
                let (sql, values) = (&sql, &values);
                let operation = move |pool: Pool| {
                    let (sql, values) = (sql.clone(), values.clone());
                    async move {
                        match pool {
                            Pool::Sqlite(pool) => perform!(&pool, Sqlite, op, sql, values),
                            Pool::Postgres(pool) => perform!(&pool, Postgres, op, sql, values),
                        }
                    }
                };
                match target {
                    Target::Read => db.read_mapped(label, operation, map_error::<R>).await,
                    Target::Write => db.write_mapped(label, operation, map_error::<R>).await,
                }
            }
            Executor::Tx(tx) => {
                let mut guard = tx.conn.lock().await;
                let conn = guard
                    .as_mut()
                    .ok_or_else(|| ApiError::internal("the transaction has already ended"))?;
                let operation = async move {
                    match conn {
                        TxConn::Sqlite(tx) => perform!(&mut **tx, Sqlite, op, sql, values),
                        TxConn::Postgres(tx) => perform!(&mut **tx, Postgres, op, sql, values),
                    }
                };
                let flag = &tx.conflicted;
                tx.db
                    .run_mapped(label, operation, |error| {
                        flag_conflict(flag, error, map_error::<R>)
                    })
                    .await
            }
        }
    }

    /// Every row of a statement (custom queries).
    pub async fn fetch_all<T: Row>(
        &self,
        label: &'static str,
        target: Target,
        sql: &'static str,
        values: Vec<Value>,
    ) -> Result<Vec<T>, ApiError> {
        let statement = Statement::literal(sql, values);
        match self.perform(label, target, Op::All, statement).await? {
            Output::Rows(rows) => Ok(rows),
            _ => Err(mismatch("rows")),
        }
    }

    /// The first row of a statement, if any (custom queries).
    pub async fn fetch_optional<T: Row>(
        &self,
        label: &'static str,
        target: Target,
        sql: &'static str,
        values: Vec<Value>,
    ) -> Result<Option<T>, ApiError> {
        let statement = Statement::literal(sql, values);
        self.optional(label, target, statement).await
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
        self.affected(label, statement).await
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
        self.scalar(label, target, statement)
            .await?
            .ok_or_else(ApiError::not_found)
    }

    async fn optional<T: Row>(
        &self,
        label: &'static str,
        target: Target,
        statement: Statement,
    ) -> Result<Option<T>, ApiError> {
        match self.perform(label, target, Op::Optional, statement).await? {
            Output::Row(row) => Ok(row),
            _ => Err(mismatch("row")),
        }
    }

    async fn affected(&self, label: &'static str, statement: Statement) -> Result<u64, ApiError> {
        match self
            .perform::<R>(label, Target::Write, Op::Execute, statement)
            .await?
        {
            Output::Affected(count) => Ok(count),
            _ => Err(mismatch("affected")),
        }
    }

    async fn scalar(
        &self,
        label: &'static str,
        target: Target,
        statement: Statement,
    ) -> Result<Option<i64>, ApiError> {
        match self
            .perform::<R>(label, target, Op::Scalar, statement)
            .await?
        {
            Output::Scalar(value) => Ok(value),
            _ => Err(mismatch("scalar")),
        }
    }

    /// One row by id; another owner's row is the same 404 as a missing one.
    pub async fn get(&self, scope: &impl RowScope, id: Uuid) -> Result<R, ApiError> {
        let statement = sql::get(&R::SPEC, Some(R::statements()), id, scope.owner_filter());
        self.optional(R::SPEC.labels.get, Target::Read, statement)
            .await?
            .ok_or_else(ApiError::not_found)
    }

    /// A page of the scope's rows, filtered and sorted as the query says.
    pub async fn list(
        &self,
        scope: &impl RowScope,
        query: &ListQuery<R>,
    ) -> Result<Paginated<R>, ApiError> {
        if R::SPEC.parent.is_some() {
            return Err(ApiError::internal(format!(
                "{} lives under a parent: use list_under",
                R::SPEC.name
            )));
        }
        self.page(scope, None, query).await
    }

    /// A page of the scope's rows under `parent`; a parent the scope cannot see is a 404.
    pub async fn list_under(
        &self,
        scope: &impl RowScope,
        parent: Uuid,
        query: &ListQuery<R>,
    ) -> Result<Paginated<R>, ApiError> {
        let page = self.page(scope, Some(parent), query).await?;
        if page.items.is_empty() {
            self.require_parent(scope, parent).await?;
        }
        Ok(page)
    }

    async fn require_parent(&self, scope: &impl RowScope, parent: Uuid) -> Result<(), ApiError> {
        let statement = sql::parent_exists(&R::SPEC, parent, scope.owner_filter())
            .ok_or_else(|| ApiError::internal(format!("{} has no parent", R::SPEC.name)))?;
        match self
            .scalar(R::SPEC.labels.get, Target::Read, statement)
            .await?
        {
            Some(count) if count > 0 => Ok(()),
            _ => Err(ApiError::not_found()),
        }
    }

    async fn page(
        &self,
        scope: &impl RowScope,
        parent: Option<Uuid>,
        query: &ListQuery<R>,
    ) -> Result<Paginated<R>, ApiError> {
        let spec = &R::SPEC;
        let filter = Filter {
            owner: scope.owner_filter(),
            parent,
            equals: query.filters.clone(),
        };
        let sort = query.sort;
        let (window, per_page, context) = match &query.page {
            PageRequest::Offset(page) => {
                let offset = i64::try_from(page.offset())
                    .map_err(|_| ApiError::bad_request("page is too large"))?;
                (Window::Offset { offset }, page.per_page(), String::new())
            }
            PageRequest::Cursor { per_page, after } => {
                // The cursor is valid only for the list it was issued for.
                let context = format!(
                    "{}|{}{}|{:?}|{:?}|{:?}",
                    spec.table,
                    if sort.descending { "-" } else { "" },
                    sort.field.name,
                    parent,
                    filter.owner,
                    filter.equals
                );
                let after = match after {
                    Some(cursor) => Some(self.key.decode(cursor, sort.field.kind, &context)?),
                    None => None,
                };
                (Window::After(after), *per_page, context)
            }
        };
        let fetch = i64::from(per_page) + i64::from(matches!(window, Window::After(_)));
        let statement = sql::list(spec, &filter, sort, &window, fetch);
        let mut items: Vec<R> = match self
            .perform(spec.labels.list, Target::Read, Op::All, statement)
            .await?
        {
            Output::Rows(rows) => rows,
            _ => return Err(mismatch("rows")),
        };
        let total = self
            .scalar(spec.labels.count, Target::Read, sql::count(spec, &filter))
            .await?
            .unwrap_or(0)
            .max(0) as u64;
        let meta = match &query.page {
            PageRequest::Offset(page) => page.meta(total),
            PageRequest::Cursor { .. } => {
                let mut next_cursor = None;
                if items.len() > per_page as usize {
                    items.truncate(per_page as usize);
                    if let Some(last) = items.last() {
                        let value = last
                            .sort_value(sort.field.name)
                            .unwrap_or(Value::Null(sort.field.kind));
                        next_cursor = Some(self.key.encode(&value, last.id(), &context));
                    }
                }
                PageMeta {
                    page: None,
                    per_page,
                    total: Some(total),
                    next_cursor,
                }
            }
        };
        Ok(Paginated { items, meta })
    }

    /// Creates a row owned by the scope's creator.
    pub async fn create(&self, scope: &impl RowScope, input: R::Create) -> Result<R, ApiError> {
        if R::SPEC.parent.is_some() {
            return Err(ApiError::internal(format!(
                "{} lives under a parent: use create_under",
                R::SPEC.name
            )));
        }
        self.insert(scope, None, input).await
    }

    /// Creates a row under `parent`; a parent the scope cannot see is a 404 and nothing is
    /// written (one statement: the insert only happens if the parent is there).
    pub async fn create_under(
        &self,
        scope: &impl RowScope,
        parent: Uuid,
        input: R::Create,
    ) -> Result<R, ApiError> {
        self.insert(scope, Some(parent), input).await
    }

    async fn insert(
        &self,
        scope: &impl RowScope,
        parent: Option<Uuid>,
        input: R::Create,
    ) -> Result<R, ApiError> {
        let row = R::assemble(
            input,
            ServerFields {
                id: Uuid::now_v7(),
                owner: scope.creator(),
                parent,
                now: now(),
            },
        );
        let statement = sql::insert(
            &R::SPEC,
            Some(R::statements()),
            row.values(),
            parent.map(|p| (p, scope.owner_filter())),
        );
        // The stored row, not the assembled one: what the database keeps is what a GET shows.
        match self
            .optional(R::SPEC.labels.insert, Target::Write, statement)
            .await?
        {
            Some(row) => Ok(row),
            // Nothing inserted: the parent is missing or not the caller's (404), or read-only.
            None => match (R::SPEC.parent, parent) {
                (Some(spec_parent), Some(parent_id)) => {
                    let read_only = match spec_parent.read_only_when {
                        Some(flag) => {
                            let statement = sql::read_only_flag(
                                spec_parent.table,
                                spec_parent.id,
                                spec_parent.owner,
                                flag,
                                parent_id,
                                scope.owner_filter(),
                            );
                            self.scalar(R::SPEC.labels.get, Target::Write, statement)
                                .await?
                                == Some(1)
                        }
                        None => false,
                    };
                    if read_only {
                        Err(ApiError::new(ErrorCode::Conflict).with_message(format!(
                            "the {} cannot be created: its parent is read-only ({} is set)",
                            R::SPEC.name,
                            spec_parent.read_only_when.unwrap_or_default()
                        )))
                    } else {
                        Err(ApiError::not_found())
                    }
                }
                _ => Err(ApiError::not_found()),
            },
        }
    }

    /// Replaces every writable field (PUT).
    pub async fn replace(
        &self,
        scope: &impl RowScope,
        id: Uuid,
        input: R::Replace,
        if_match: IfMatch,
    ) -> Result<R, ApiError> {
        self.update(scope, id, input, if_match).await
    }

    /// Sets the fields present in the patch (PATCH).
    pub async fn patch(
        &self,
        scope: &impl RowScope,
        id: Uuid,
        input: R::Patch,
        if_match: IfMatch,
    ) -> Result<R, ApiError> {
        self.update(scope, id, input, if_match).await
    }

    async fn update(
        &self,
        scope: &impl RowScope,
        id: Uuid,
        input: impl Changes,
        if_match: IfMatch,
    ) -> Result<R, ApiError> {
        let expect = Expect {
            owner: scope.owner_filter(),
            version: input.expected_version(),
            if_match: if_match.version(),
        };
        if R::SPEC.version.is_some() {
            required_version(expect.version, if_match)?;
        }
        let changes = input.into_changes();
        if changes.is_empty() {
            return self.unchanged(scope, id, expect).await;
        }
        let statement = sql::update(&R::SPEC, id, changes, Value::Timestamp(now()), expect);
        match self
            .optional(R::SPEC.labels.update, Target::Write, statement)
            .await?
        {
            Some(row) => Ok(row),
            None => Err(match self.read_only(id, expect.owner).await {
                Ok(true) => ApiError::new(ErrorCode::Conflict).with_message(format!(
                    "the {} is read-only while {} is set",
                    R::SPEC.name,
                    R::SPEC.read_only_when.unwrap_or_default()
                )),
                Ok(false) => self.explain_miss(id, expect).await,
                Err(error) => error,
            }),
        }
    }

    /// Whether the row is there (for this owner) with its `read_only_when` flag set.
    async fn read_only(&self, id: Uuid, owner: Option<Uuid>) -> Result<bool, ApiError> {
        let Some(flag) = R::SPEC.read_only_when else {
            return Ok(false);
        };
        let statement =
            sql::read_only_flag(R::SPEC.table, R::SPEC.id, R::SPEC.owner, flag, id, owner);
        Ok(self
            .scalar(R::SPEC.labels.get, Target::Write, statement)
            .await?
            == Some(1))
    }

    /// A patch that sets nothing: no write and no new version (nothing changed), but the same
    /// answers as a write: 404, 409 or 412 when the row is gone or the version stale, else the
    /// current row (from the primary, as after a write).
    async fn unchanged(
        &self,
        scope: &impl RowScope,
        id: Uuid,
        expect: Expect,
    ) -> Result<R, ApiError> {
        let statement = sql::get(&R::SPEC, Some(R::statements()), id, scope.owner_filter());
        let row: R = self
            .optional(R::SPEC.labels.get, Target::Write, statement)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let current = row.version();
        let stale = |wanted: Option<i64>| wanted.is_some_and(|v| Some(v) != current);
        if current.is_some() && (stale(expect.version) || stale(expect.if_match)) {
            return Err(self.explain_miss(id, expect).await);
        }
        Ok(row)
    }

    /// Deletes a row; with `If-Match`, only at that version.
    pub async fn delete(
        &self,
        scope: &impl RowScope,
        id: Uuid,
        if_match: IfMatch,
    ) -> Result<(), ApiError> {
        let expect = Expect {
            owner: scope.owner_filter(),
            version: None,
            if_match: if_match.version(),
        };
        let statement = sql::delete(&R::SPEC, Some(R::statements()), id, expect);
        let deleted = self.affected(R::SPEC.labels.delete, statement).await;
        match deleted.map_err(still_referenced::<R>)? {
            0 => Err(self.explain_miss(id, expect).await),
            _ => Ok(()),
        }
    }

    /// Why a conditional write changed nothing: gone or not yours (404), a stale `If-Match`
    /// (412), or a stale body version (409 with the current version).
    async fn explain_miss(&self, id: Uuid, expect: Expect) -> ApiError {
        let Some(column) = R::SPEC.version else {
            return ApiError::not_found();
        };
        let statement =
            sql::current_version(&R::SPEC, Some(R::statements()), column, id, expect.owner);
        match self
            .scalar(R::SPEC.labels.get, Target::Write, statement)
            .await
        {
            Err(error) => error,
            Ok(None) => ApiError::not_found(),
            Ok(Some(current)) => {
                if expect.if_match.is_some_and(|v| v != current) {
                    ApiError::new(ErrorCode::PreconditionFailed)
                        .with_message(format!(
                            "If-Match does not match the current version ({current})"
                        ))
                        .with_detail("If-Match", format!("current version is {current}"))
                } else {
                    ApiError::new(ErrorCode::VersionConflict)
                        .with_message(format!(
                            "the {} was changed by someone else; re-read it and retry with version {current}",
                            R::SPEC.name
                        ))
                        .with_detail("version", format!("current version is {current}"))
                }
            }
        }
    }
}

/// A write to a versioned resource names the version it is based on, in the body (`version`)
/// or in `If-Match` (`"7"`): neither is a 400 naming `version`, and two that disagree a 400
/// (the client holds two different reads). `If-Match: *` names no version.
fn required_version(body: Option<i64>, if_match: IfMatch) -> Result<(), ApiError> {
    match (body, if_match.0) {
        (None, None | Some(Precondition::Any)) => Err(ApiError::bad_request(
            "the version this change is based on is required: send `version` in the body or `If-Match: \"<version>\"`",
        )
        .with_detail("version", "required (in the body, or as If-Match)")),
        (Some(body), Some(Precondition::Version(header))) if body != header => Err(
            ApiError::bad_request(format!(
                "`version` in the body ({body}) and If-Match ({header}) disagree; send one, or the same in both"
            ))
            .with_detail("version", format!("differs from If-Match ({header})")),
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::conflict_column;

    #[test]
    fn conflict_names_the_writable_column() {
        let writable = &["name", "description"];
        assert_eq!(
            conflict_column(
                writable,
                "UNIQUE constraint failed: projects.owner_id, projects.name",
                None
            ),
            Some("name")
        );
        assert_eq!(
            conflict_column(
                writable,
                "duplicate key",
                Some("Key (owner_id, name)=(1, description) already exists.")
            ),
            Some("name")
        );
        assert_eq!(conflict_column(writable, "duplicate key", None), None);
    }
}
