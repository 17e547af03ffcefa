//! Where idempotency records live: Redis (one atomic script per step) or the database
//! (`rampart_idempotency`, one row per principal and key hash). Both keep the same [`Entry`]:
//! claimed by one request's token, completed by that token only, so a request whose claim ran
//! out (its lease passed and another request took the key) can never overwrite the record of
//! the one that holds it now.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Entry, Outcome};
use crate::db::statement::Affected;
use crate::db::{Db, Statement, Target, Value, map_sqlx_error};
use crate::error::ApiError;
use crate::rate_limit::RedisStore;

/// Takes the key when it is free: KEYS[1] the record; ARGV[1] the claim; ARGV[2] its lease
/// (ms). Returns the record already there, or nothing when the claim was written.
const CLAIM: &str = r#"
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
"#;

/// Replaces the claim ARGV[1] by the record ARGV[2] for ARGV[3] ms, only if the claim is still
/// there; with an empty ARGV[2], deletes it (a release).
const SETTLE: &str = r#"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
"#;

/// Where an app's idempotency records are kept; cheap to clone.
#[derive(Clone, Debug)]
pub struct IdempotencyStore {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Redis {
        store: RedisStore,
        claim: Arc<redis::Script>,
        settle: Arc<redis::Script>,
    },
    Database {
        db: Db,
        /// Claims since the last sweep of expired rows.
        claims: Arc<AtomicU64>,
    },
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Redis { .. } => "Redis",
            Backend::Database { .. } => "Database",
        })
    }
}

/// What a claim found.
#[derive(Debug)]
pub(crate) enum Claim {
    /// The key was free: this request runs, and settles the lease.
    Acquired(Lease),
    /// Another request holds it: its fingerprint, and its outcome when it completed.
    Held(Entry),
}

/// The right to complete (or release) one record: held by the request that claimed it.
#[derive(Debug)]
pub(crate) struct Lease {
    store: IdempotencyStore,
    scope: String,
    key_hash: String,
    entry: Entry,
}

/// Sweep the database's expired rows once every this many claims.
const SWEEP_EVERY: u64 = 256;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis())
        .unwrap_or(i64::MAX)
        .max(1)
}

fn unavailable(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> ApiError {
    ApiError::unavailable(1)
        .with_message("the idempotency records cannot be reached; retry later")
        .with_source(source)
}

fn encode(value: &impl serde::Serialize) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(ApiError::internal)
}

/// A stored record that does not parse is not trusted to mean anything: the request is
/// refused (a 500 in the log), never run as if the key were free.
fn decode<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(ApiError::internal)
}

impl IdempotencyStore {
    /// Records in Redis, under `<RAMPART_REDIS_PREFIX>:idem:<user>:<key hash>`.
    pub fn redis(store: RedisStore) -> Self {
        Self {
            backend: Backend::Redis {
                store,
                claim: Arc::new(redis::Script::new(CLAIM)),
                settle: Arc::new(redis::Script::new(SETTLE)),
            },
        }
    }

    /// Records in the database's `rampart_idempotency` table ([`super::migrate`]).
    pub fn database(db: Db) -> Self {
        Self {
            backend: Backend::Database {
                db,
                claims: Arc::new(AtomicU64::new(0)),
            },
        }
    }

    /// Whether the records are in Redis.
    pub fn is_redis(&self) -> bool {
        matches!(self.backend, Backend::Redis { .. })
    }

    /// Claims `key_hash` for `scope` with `fingerprint` for `lease` (how long a claim whose
    /// request vanished without settling blocks the key), or reads the record that holds it.
    pub(crate) async fn claim(
        &self,
        scope: &str,
        key_hash: &str,
        fingerprint: &str,
        lease: Duration,
    ) -> Result<Claim, ApiError> {
        let entry = Entry {
            fingerprint: fingerprint.to_owned(),
            token: uuid::Uuid::new_v4().simple().to_string(),
            outcome: None,
        };
        let lease_of = |entry: Entry| Lease {
            store: self.clone(),
            scope: scope.to_owned(),
            key_hash: key_hash.to_owned(),
            entry,
        };
        match &self.backend {
            Backend::Redis { store, claim, .. } => {
                let mut connection = store.connection();
                let held: Option<String> = claim
                    .key(redis_key(store, scope, key_hash))
                    .arg(encode(&entry)?)
                    .arg(millis(lease))
                    .invoke_async(&mut connection)
                    .await
                    .map_err(unavailable)?;
                match held {
                    None => Ok(Claim::Acquired(lease_of(entry))),
                    Some(text) => Ok(Claim::Held(decode(&text)?)),
                }
            }
            Backend::Database { db, claims } => {
                if claims.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == 0 {
                    sweep(db).await;
                }
                let now = now_ms();
                // An expired record of this key is gone before the insert, so the key is free
                // again exactly when its time to live has passed.
                let _: Affected = fetch(
                    db,
                    "idempotency_expire",
                    "DELETE FROM rampart_idempotency WHERE scope = $1 AND key_hash = $2 AND expires_at <= $3",
                    vec![text(scope), text(key_hash), Value::Int64(now)],
                )
                .await?;
                // Two attempts: a record that expires between the insert and the read is gone
                // when read, and the key is free for the second insert.
                for _ in 0..2 {
                    let Affected(inserted) = fetch(
                        db,
                        "idempotency_claim",
                        "INSERT INTO rampart_idempotency (scope, key_hash, fingerprint, token, outcome, expires_at) \
                         VALUES ($1, $2, $3, $4, NULL, $5) ON CONFLICT (scope, key_hash) DO NOTHING",
                        vec![
                            text(scope),
                            text(key_hash),
                            text(&entry.fingerprint),
                            text(&entry.token),
                            Value::Int64(now.saturating_add(millis(lease))),
                        ],
                    )
                    .await?;
                    if inserted == 1 {
                        return Ok(Claim::Acquired(lease_of(entry)));
                    }
                    let held: Option<(String, String, Option<String>)> = fetch(
                        db,
                        "idempotency_read",
                        "SELECT fingerprint, token, outcome FROM rampart_idempotency \
                         WHERE scope = $1 AND key_hash = $2 AND expires_at > $3",
                        vec![text(scope), text(key_hash), Value::Int64(now_ms())],
                    )
                    .await?;
                    if let Some((fingerprint, token, outcome)) = held {
                        let outcome = outcome.as_deref().map(decode).transpose()?;
                        return Ok(Claim::Held(Entry {
                            fingerprint,
                            token,
                            outcome,
                        }));
                    }
                }
                Err(unavailable(
                    "the idempotency record changed twice while read",
                ))
            }
        }
    }
}

fn redis_key(store: &RedisStore, scope: &str, key_hash: &str) -> String {
    store.prefixed(&format!("idem:{scope}:{key_hash}"))
}

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

async fn fetch<A: crate::db::statement::Answer>(
    db: &Db,
    label: &'static str,
    sql: &'static str,
    values: Vec<Value>,
) -> Result<A, ApiError> {
    db.fetch(
        label,
        Target::Write,
        Statement::literal(sql, values),
        map_sqlx_error,
    )
    .await
    // Whatever the database said (an outage, a serialization failure, a value it refused),
    // the record is unknown and the client did nothing wrong: fail closed with a 503.
    .map_err(unavailable)
}

/// Deletes every expired record (keys of principals who never came back), best effort.
async fn sweep(db: &Db) {
    let swept: Result<Affected, ApiError> = fetch(
        db,
        "idempotency_sweep",
        "DELETE FROM rampart_idempotency WHERE expires_at <= $1",
        vec![Value::Int64(now_ms())],
    )
    .await;
    if let Err(error) = swept {
        tracing::warn!(error = %error, "could not sweep expired idempotency records");
    }
}

impl Lease {
    /// Stores the outcome for `ttl`, if this request still holds the key. `Ok(false)`: it did
    /// not any more (its lease ran out and another request took the key).
    pub(crate) async fn complete(self, outcome: Outcome, ttl: Duration) -> Result<bool, ApiError> {
        let completed = Entry {
            outcome: Some(outcome),
            ..self.entry.clone()
        };
        self.settle(Some(completed), ttl).await
    }

    /// Frees the key (a 5xx, or a request that ended without an answer).
    pub(crate) async fn release(self) -> Result<bool, ApiError> {
        self.settle(None, Duration::ZERO).await
    }

    async fn settle(self, completed: Option<Entry>, ttl: Duration) -> Result<bool, ApiError> {
        match &self.store.backend {
            Backend::Redis { store, settle, .. } => {
                let mut connection = store.connection();
                let replacement = match &completed {
                    Some(entry) => encode(entry)?,
                    None => String::new(),
                };
                let settled: i64 = settle
                    .key(redis_key(store, &self.scope, &self.key_hash))
                    .arg(encode(&self.entry)?)
                    .arg(replacement)
                    .arg(millis(ttl))
                    .invoke_async(&mut connection)
                    .await
                    .map_err(unavailable)?;
                Ok(settled == 1)
            }
            Backend::Database { db, .. } => {
                let Affected(changed) = match completed.and_then(|entry| entry.outcome) {
                    Some(outcome) => {
                        fetch(
                            db,
                            "idempotency_complete",
                            "UPDATE rampart_idempotency SET outcome = $1, expires_at = $2 \
                             WHERE scope = $3 AND key_hash = $4 AND token = $5 AND outcome IS NULL",
                            vec![
                                text(&encode(&outcome)?),
                                Value::Int64(now_ms().saturating_add(millis(ttl))),
                                text(&self.scope),
                                text(&self.key_hash),
                                text(&self.entry.token),
                            ],
                        )
                        .await?
                    }
                    None => {
                        fetch(
                            db,
                            "idempotency_release",
                            "DELETE FROM rampart_idempotency \
                             WHERE scope = $1 AND key_hash = $2 AND token = $3 AND outcome IS NULL",
                            vec![
                                text(&self.scope),
                                text(&self.key_hash),
                                text(&self.entry.token),
                            ],
                        )
                        .await?
                    }
                };
                Ok(changed == 1)
            }
        }
    }
}
