//! What a database error means for the request: an outage (503 with `Retry-After`), a lost
//! serialisation conflict or deadlock (run again, then 409), a broken rule of the data (409,
//! 422, 400), or a server fault (500, the cause in the log only).

use std::time::Duration;

use crate::error::{ApiError, ErrorCode};

/// Seconds a client should wait before retrying after a database outage.
pub(crate) const RETRY_AFTER_SECONDS: u32 = 2;

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
