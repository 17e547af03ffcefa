//! The one place that tells SQLite from PostgreSQL when rampart runs a statement of its own
//! (the resource store's and identity's): a [`Statement`] is SQL with `$n` parameters (both
//! backends read `$n`) and its [`Value`]s; what it answers is chosen by type ([`Answer`]: every
//! row, the first row, the rows changed, or one integer), and [`Driver`] holds the sqlx code of
//! each answer, written once and stamped for both databases. [`Conn::run`] is the dispatch.
//!
//! App code that wants raw sqlx on either backend uses [`crate::with_pool!`] instead.

use std::borrow::Cow;
use std::fmt::Write;
use std::future::Future;

use sqlx::error::BoxDynError;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{Arguments, AssertSqlSafe, FromRow, Postgres, Sqlite};
use uuid::Uuid;

use super::value::{JsonDocument, Kind, Value};
use chrono::{DateTime, Utc};

/// A statement and its parameters, in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Statement {
    /// SQL with `$1..$n`: written by a builder, or borrowed when complete (a literal, or the
    /// text of a fixed statement built once). While it is borrowed, the builder methods only
    /// collect values: the text is already there.
    pub sql: Cow<'static, str>,
    /// The parameters.
    pub values: Vec<Value>,
}

impl Statement {
    /// A literal statement (already `$n`) with its values.
    pub(crate) fn literal(sql: &'static str, values: Vec<Value>) -> Self {
        Self {
            sql: Cow::Borrowed(sql),
            values,
        }
    }

    /// An empty statement that a builder writes.
    pub(crate) fn new() -> Self {
        Self {
            sql: Cow::Owned(String::with_capacity(160)),
            values: Vec::new(),
        }
    }

    /// A statement whose text is complete: the builder run over it only binds the values, in
    /// the order the text was written with.
    pub(crate) fn with_text(text: &'static str) -> Self {
        Self {
            sql: Cow::Borrowed(text),
            values: Vec::with_capacity(4),
        }
    }

    /// Appends SQL text.
    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        if let Cow::Owned(sql) = &mut self.sql {
            sql.push_str(text);
        }
        self
    }

    /// Appends a quoted identifier (declared names, checked to be plain snake_case).
    pub(crate) fn ident(&mut self, name: &str) -> &mut Self {
        if let Cow::Owned(sql) = &mut self.sql {
            sql.push('"');
            sql.push_str(name);
            sql.push('"');
        }
        self
    }

    /// Binds a value as the next `$n`.
    pub(crate) fn bind(&mut self, value: Value) -> &mut Self {
        self.values.push(value);
        if let Cow::Owned(sql) = &mut self.sql {
            let _ = write!(sql, "${}", self.values.len());
        }
        self
    }

    /// `"column" = $n`.
    pub(crate) fn equals(&mut self, column: &str, value: Value) -> &mut Self {
        self.ident(column).push(" = ").bind(value)
    }

    /// The text as written (for the fixed statements built once).
    pub(crate) fn into_text(self) -> String {
        self.sql.into_owned()
    }
}

/// A type a statement's rows decode into, on both backends (every `#[resource]` is one, and so
/// is a tuple of column types).
pub trait Row:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}

impl<T> Row for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}

/// The number of rows a statement changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Affected(pub(crate) u64);

/// The integer in the first column of the first row, if there is a row (`COUNT(*)`, a version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Scalar(pub(crate) Option<i64>);

/// What running a statement answers: `Vec<T>` (every row), `Option<T>` (the first row),
/// [`Affected`] or [`Scalar`]. The caller names the type, so there is no answer of the wrong
/// shape to refuse.
pub(crate) trait Answer: Sized + Send + 'static {
    /// Runs `statement` on a connection of backend `B`.
    fn run<B: Driver>(
        conn: &mut B::Connection,
        statement: Statement,
    ) -> impl Future<Output = Result<Self, sqlx::Error>> + Send + '_;
}

impl<T: Row> Answer for Vec<T> {
    fn run<B: Driver>(
        conn: &mut B::Connection,
        statement: Statement,
    ) -> impl Future<Output = Result<Self, sqlx::Error>> + Send + '_ {
        B::fetch_all(conn, statement)
    }
}

impl<T: Row> Answer for Option<T> {
    fn run<B: Driver>(
        conn: &mut B::Connection,
        statement: Statement,
    ) -> impl Future<Output = Result<Self, sqlx::Error>> + Send + '_ {
        B::fetch_optional(conn, statement)
    }
}

impl Answer for Affected {
    fn run<B: Driver>(
        conn: &mut B::Connection,
        statement: Statement,
    ) -> impl Future<Output = Result<Self, sqlx::Error>> + Send + '_ {
        B::execute(conn, statement)
    }
}

impl Answer for Scalar {
    fn run<B: Driver>(
        conn: &mut B::Connection,
        statement: Statement,
    ) -> impl Future<Output = Result<Self, sqlx::Error>> + Send + '_ {
        B::fetch_scalar(conn, statement)
    }
}

/// A database rampart runs its statements on: SQLite and PostgreSQL, with the same code
/// (stamped by `driver!` below), so that a statement never needs a backend of its own.
pub(crate) trait Driver: sqlx::Database {
    /// The argument list of this backend from bound values (typed NULLs included).
    fn arguments(values: Vec<Value>) -> Result<Self::Arguments, BoxDynError>;
    /// Every row.
    fn fetch_all<T: Row>(
        conn: &mut Self::Connection,
        statement: Statement,
    ) -> impl Future<Output = Result<Vec<T>, sqlx::Error>> + Send + '_;
    /// The first row.
    fn fetch_optional<T: Row>(
        conn: &mut Self::Connection,
        statement: Statement,
    ) -> impl Future<Output = Result<Option<T>, sqlx::Error>> + Send + '_;
    /// The rows changed.
    fn execute(
        conn: &mut Self::Connection,
        statement: Statement,
    ) -> impl Future<Output = Result<Affected, sqlx::Error>> + Send + '_;
    /// The first column of the first row.
    fn fetch_scalar(
        conn: &mut Self::Connection,
        statement: Statement,
    ) -> impl Future<Output = Result<Scalar, sqlx::Error>> + Send + '_;
}

macro_rules! driver {
    ($db:ty, $conn:ty) => {
        impl Driver for $db {
            fn arguments(values: Vec<Value>) -> Result<Self::Arguments, BoxDynError> {
                let mut arguments = <Self as sqlx::Database>::Arguments::default();
                for value in values {
                    match value {
                        Value::Null(Kind::Bool) => arguments.add(None::<bool>)?,
                        Value::Null(Kind::Int32) => arguments.add(None::<i32>)?,
                        Value::Null(Kind::Int64) => arguments.add(None::<i64>)?,
                        Value::Null(Kind::Float) => arguments.add(None::<f64>)?,
                        Value::Null(Kind::Text) => arguments.add(None::<String>)?,
                        Value::Null(Kind::Uuid) => arguments.add(None::<Uuid>)?,
                        Value::Null(Kind::Timestamp) => arguments.add(None::<DateTime<Utc>>)?,
                        Value::Null(Kind::Json) => {
                            arguments.add(None::<sqlx::types::Json<serde_json::Value>>)?
                        }
                        Value::Bool(v) => arguments.add(v)?,
                        Value::Int32(v) => arguments.add(v)?,
                        Value::Int64(v) => arguments.add(v)?,
                        Value::Float(v) => arguments.add(v)?,
                        Value::Text(v) => arguments.add(v)?,
                        Value::Uuid(v) => arguments.add(v)?,
                        Value::Timestamp(v) => arguments.add(v)?,
                        Value::Json(JsonDocument(Ok(v))) => arguments.add(sqlx::types::Json(v))?,
                        Value::Json(JsonDocument(Err(error))) => return Err(error.into()),
                        Value::Bytes(v) => arguments.add(v)?,
                    }
                }
                Ok(arguments)
            }

            async fn fetch_all<T: Row>(
                conn: &mut $conn,
                statement: Statement,
            ) -> Result<Vec<T>, sqlx::Error> {
                let arguments = Self::arguments(statement.values).map_err(sqlx::Error::Encode)?;
                sqlx::query_as_with::<Self, T, _>(AssertSqlSafe(statement.sql), arguments)
                    .fetch_all(conn)
                    .await
            }

            async fn fetch_optional<T: Row>(
                conn: &mut $conn,
                statement: Statement,
            ) -> Result<Option<T>, sqlx::Error> {
                let arguments = Self::arguments(statement.values).map_err(sqlx::Error::Encode)?;
                sqlx::query_as_with::<Self, T, _>(AssertSqlSafe(statement.sql), arguments)
                    .fetch_optional(conn)
                    .await
            }

            async fn execute(
                conn: &mut $conn,
                statement: Statement,
            ) -> Result<Affected, sqlx::Error> {
                let arguments = Self::arguments(statement.values).map_err(sqlx::Error::Encode)?;
                sqlx::query_with::<Self, _>(AssertSqlSafe(statement.sql), arguments)
                    .execute(conn)
                    .await
                    .map(|done| Affected(done.rows_affected()))
            }

            async fn fetch_scalar(
                conn: &mut $conn,
                statement: Statement,
            ) -> Result<Scalar, sqlx::Error> {
                let arguments = Self::arguments(statement.values).map_err(sqlx::Error::Encode)?;
                sqlx::query_scalar_with::<Self, i64, _>(AssertSqlSafe(statement.sql), arguments)
                    .fetch_optional(conn)
                    .await
                    .map(Scalar)
            }
        }
    };
}

driver!(Sqlite, SqliteConnection);
driver!(Postgres, PgConnection);

/// A connection of either backend: a pooled one, or a transaction's.
pub(crate) enum Conn<'c> {
    /// SQLite.
    Sqlite(&'c mut SqliteConnection),
    /// PostgreSQL.
    Postgres(&'c mut PgConnection),
}

impl Conn<'_> {
    /// Runs `statement` and answers `A`: the backend dispatch of every rampart statement.
    pub(crate) async fn run<A: Answer>(self, statement: Statement) -> Result<A, sqlx::Error> {
        match self {
            Conn::Sqlite(conn) => A::run::<Sqlite>(conn, statement).await,
            Conn::Postgres(conn) => A::run::<Postgres>(conn, statement).await,
        }
    }
}
