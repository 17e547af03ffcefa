//! Idempotency keys: `#[endpoint(post = "..", idempotent)]` lets a client repeat a write safely.
//!
//! A request that carries `Idempotency-Key` on an idempotent endpoint is looked up under its
//! principal (the user id: another user's identical key is another record) and the hash of the
//! key. The first request claims the record and runs; its status and body are stored for the
//! endpoint's time to live (24 h by default, `RAMPART_IDEMPOTENCY_TTL`, or
//! `idempotent(ttl = "1h")`). A repeat with the same key:
//!
//! - and the same request (method, path and query, `Content-Type` and `If-Match`, body: the
//!   *fingerprint*) gets the stored response again, without the handler running; it carries
//!   its own request id and the current rate-limit headers, and `Idempotent-Replayed: true`;
//! - and another request is a 422 (`UNPROCESSABLE`): a key names one request;
//! - while the first is still running is a 409 (`CONFLICT`).
//!
//! A 5xx answer is not stored (the key is released: the client may retry), nor is a panic's.
//! A request that times out or whose client goes away keeps running (its own task), and its
//! answer is kept for the retry: it may have written already.
//! A response that carries credentials (`Set-Cookie`, or `Cache-Control: no-store`, which every
//! `Sensitive<T>` reply has) is never written to the store: only its status is, and a repeat
//! is a 409 that says the response is not kept, so the secret is neither stored nor handed out
//! twice and the write is not done twice either. A request without the header runs as usual.
//!
//! Where records live ([`IdempotencyStore`]): Redis when the app has one (`REDIS_URL`), else
//! the database (`rampart_idempotency`, created by [`migrate`]); `RAMPART_IDEMPOTENCY_STORE`
//! picks one explicitly. When the store cannot be reached, a request with a key is refused
//! with 503 and `Retry-After` (fail closed): running it without the record could run it twice.
//!
//! Metrics: `rampart_idempotency_total{endpoint, outcome}` with outcome `stored`, `replayed`,
//! `conflict` (409 while running), `mismatch` (422), `withheld` (a credential-bearing answer,
//! or a repeat of one), `not_stored` (5xx), `unavailable` (the store failed).

mod store;

use std::time::Duration;

use axum::http::{HeaderMap, Method, header};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::{Db, DbError, Migrations};
use crate::error::{ApiError, ErrorCode};

pub use store::IdempotencyStore;
pub(crate) use store::{Claim, Lease};

/// The request header that carries the key.
pub const HEADER: &str = "Idempotency-Key";

/// The response header a replay carries.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";

/// The longest key accepted, in characters.
pub const MAX_KEY_LENGTH: usize = 255;

/// The largest response body kept for a replay; a larger one is withheld (its status only).
pub const MAX_STORED_BODY: usize = 1024 * 1024;

/// An endpoint's `idempotent` declaration, as [`crate::EndpointDef`] holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Idempotency {
    /// How long a completed request's response is kept; `None`: the app's default
    /// (`RAMPART_IDEMPOTENCY_TTL`, 24 h).
    pub ttl: Option<Duration>,
}

/// The key of a request: `None` without the header; a 400 with a field-level detail when the
/// header is there but not a usable key (empty, longer than [`MAX_KEY_LENGTH`], anything but
/// visible ASCII, or given twice).
pub fn key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let mut values = headers.get_all(HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let refuse = |issue: &'static str| {
        ApiError::new(ErrorCode::BadRequest)
            .with_message("the Idempotency-Key header is not a usable key")
            .with_detail(HEADER, issue)
    };
    if values.next().is_some() {
        return Err(refuse("given more than once"));
    }
    let bytes = value.as_bytes();
    if bytes.is_empty() {
        return Err(refuse("empty"));
    }
    if bytes.len() > MAX_KEY_LENGTH {
        return Err(refuse("at most 255 characters"));
    }
    // Visible ASCII: no space, no control character, nothing beyond 0x7E (so one byte is one
    // character and the length above counts characters).
    if !bytes.iter().all(|byte| (0x21..=0x7e).contains(byte)) {
        return Err(refuse("visible ASCII characters only"));
    }
    value
        .to_str()
        .map(Some)
        .map_err(|_| refuse("visible ASCII characters only"))
}

fn hex(digest: &[u8]) -> String {
    use std::fmt::Write;
    digest
        .iter()
        .fold(String::with_capacity(64), |mut text, byte| {
            let _ = write!(text, "{byte:02x}");
            text
        })
}

/// The hash a key is stored under: records never hold the key itself, and every stored key
/// has the same short length whatever the client sent.
pub(crate) fn key_hash(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

/// What makes two requests "the same request": method, path and query, the headers that
/// change what a body means or when it applies (`Content-Type`, `If-Match`), and the body,
/// each length-prefixed so that no two different requests run together into the same bytes.
pub(crate) fn fingerprint(
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> String {
    let mut hasher = Sha256::new();
    let mut part = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    part(method.as_str().as_bytes());
    part(path_and_query.as_bytes());
    for name in [header::CONTENT_TYPE, header::IF_MATCH] {
        // Absent and empty differ: a presence byte first.
        match headers.get(&name) {
            Some(value) => {
                part(b"1");
                part(value.as_bytes());
            }
            None => part(b"0"),
        }
    }
    part(body);
    hex(&hasher.finalize())
}

/// How a completed request is remembered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// The answer, to be sent again: status, the headers that describe the body, the body
    /// (base64).
    Replay {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// An answer that is not kept (credentials, or too large): only that it happened.
    Withheld { status: u16 },
}

/// One record as the store keeps it: the request's fingerprint, the token of the request that
/// claimed it, and its outcome once it completed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub(crate) fingerprint: String,
    pub(crate) token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) outcome: Option<Outcome>,
}

/// Counts one decision, per endpoint.
pub(crate) fn count(endpoint: &'static str, outcome: &'static str) {
    metrics::counter!("rampart_idempotency_total", "endpoint" => endpoint, "outcome" => outcome)
        .increment(1);
}

/// The table of idempotency records, with its own migration history
/// (`_rampart_idempotency_migrations`), as identity's tables have theirs.
pub const MIGRATIONS: Migrations = Migrations {
    sqlite: &[(
        1,
        "idempotency",
        include_str!("migrations/0001_idempotency.sqlite.sql"),
    )],
    postgres: &[(
        1,
        "idempotency",
        include_str!("migrations/0001_idempotency.postgres.sql"),
    )],
};

/// The migration table of the idempotency records.
pub const MIGRATION_TABLE: &str = "_rampart_idempotency_migrations";

/// Creates or updates the table of idempotency records (needed when they live in the
/// database: an app without Redis, or `RAMPART_IDEMPOTENCY_STORE=database`).
pub async fn migrate(db: &Db) -> Result<(), DbError> {
    db.migrate_into(&MIGRATIONS, MIGRATION_TABLE).await
}

/// The store an app's idempotent endpoints use, from its configuration: the one
/// `RAMPART_IDEMPOTENCY_STORE` names, else Redis when there is one, else the database.
pub fn choose_store(
    choice: Option<StoreChoice>,
    redis: Option<&crate::rate_limit::RedisStore>,
    db: Option<&Db>,
) -> Option<IdempotencyStore> {
    match choice {
        Some(StoreChoice::Redis) => redis.cloned().map(IdempotencyStore::redis),
        Some(StoreChoice::Database) => db.cloned().map(IdempotencyStore::database),
        None => redis
            .cloned()
            .map(IdempotencyStore::redis)
            .or_else(|| db.cloned().map(IdempotencyStore::database)),
    }
}

/// `RAMPART_IDEMPOTENCY_STORE`: where idempotency records live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreChoice {
    /// Redis (`REDIS_URL`).
    Redis,
    /// The database (`rampart_idempotency`).
    Database,
}

impl StoreChoice {
    /// Reads `redis` or `database`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "redis" => Some(Self::Redis),
            "database" => Some(Self::Database),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            if let Ok(value) = HeaderValue::from_bytes(value) {
                map.append(HEADER, value);
            }
        }
        map
    }

    fn issue(values: &[&[u8]]) -> Option<String> {
        key(&headers(values))
            .err()
            .and_then(|error| error.details().first().map(|d| d.issue.clone()))
    }

    #[test]
    fn keys_are_visible_ascii_of_one_to_255_characters() {
        assert_eq!(key(&headers(&[])).ok(), Some(None));
        assert_eq!(key(&headers(&[b"a-1_B.~"])).ok(), Some(Some("a-1_B.~")));
        let longest = "k".repeat(255);
        assert_eq!(
            key(&headers(&[longest.as_bytes()])).ok(),
            Some(Some(longest.as_str()))
        );
        assert_eq!(issue(&[b""]).as_deref(), Some("empty"));
        let long = "k".repeat(256);
        assert_eq!(
            issue(&[long.as_bytes()]).as_deref(),
            Some("at most 255 characters")
        );
        assert_eq!(
            issue(&[b"two words"]).as_deref(),
            Some("visible ASCII characters only")
        );
        assert_eq!(
            issue(&["clé".as_bytes()]).as_deref(),
            Some("visible ASCII characters only")
        );
        assert_eq!(
            issue(&[b"a", b"b"]).as_deref(),
            Some("given more than once")
        );
    }

    #[test]
    fn fingerprints_tell_requests_apart() {
        let none = HeaderMap::new();
        let one = fingerprint(&Method::POST, "/a", &none, b"{}");
        assert_eq!(one, fingerprint(&Method::POST, "/a", &none, b"{}"));
        assert_ne!(one, fingerprint(&Method::PATCH, "/a", &none, b"{}"));
        assert_ne!(one, fingerprint(&Method::POST, "/a?x=1", &none, b"{}"));
        assert_ne!(one, fingerprint(&Method::POST, "/a", &none, b"{ }"));
        // Length prefixes: moving bytes from the path into the body is another request.
        assert_ne!(
            fingerprint(&Method::POST, "/ab", &none, b"c"),
            fingerprint(&Method::POST, "/a", &none, b"bc")
        );
        // Another precondition is another request; other headers are not part of it.
        let mut if_match = HeaderMap::new();
        if_match.insert(header::IF_MATCH, HeaderValue::from_static("\"1\""));
        assert_ne!(one, fingerprint(&Method::POST, "/a", &if_match, b"{}"));
        let mut other = HeaderMap::new();
        other.insert(header::USER_AGENT, HeaderValue::from_static("curl"));
        assert_eq!(one, fingerprint(&Method::POST, "/a", &other, b"{}"));
        assert_eq!(key_hash("k").len(), 64);
    }
}
