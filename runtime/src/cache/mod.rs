//! The response cache of `#[endpoint(get = .., cache(..))]`: what an endpoint declares
//! ([`CachePolicy`]), where entries live (an in-process tier bounded by bytes, and Redis when
//! the app has one, so instances share entries), and the tag versions writes bump so that
//! no reader is answered from before a write it could have seen.

use std::time::Duration;

/// What `cache(..)` declares on a GET endpoint.
#[derive(Debug, Clone, Copy)]
pub struct CachePolicy {
    /// How long an entry answers without running the handler.
    pub ttl: Duration,
    /// One entry for everyone the access rule admits, rather than one per caller. A public
    /// endpoint's anonymous entry is always shared; a caller with credentials has its own.
    pub shared: bool,
    /// How long after it stopped being fresh an entry may still answer when the handler fails
    /// with a 5xx (the database is down) or the server sheds load.
    pub stale_if_error: Duration,
    /// The tags whose writes make an entry stale: a resource's table name is bumped by every
    /// write through its store; `invalidates = [..]` on a hand-written write bumps its own.
    pub tags: &'static [&'static str],
}

impl CachePolicy {
    /// The default `stale_if_error`.
    pub const DEFAULT_STALE_IF_ERROR: Duration = Duration::from_secs(300);
}

mod entry;
mod key;
mod lookup;
mod query;
mod tags;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;

pub use entry::{Entry, MAX_ENTRY_BODY};
pub(crate) use entry::{KEPT_HEADERS, Standing};
pub(crate) use key::Audience;
pub use key::CacheKey;
pub(crate) use lookup::{Found, How, Served, Spec, count};
pub use query::{CachedQuery, QueryPolicy};
pub(crate) use tags::now_ms;
pub use tags::{DEGRADED_MAX_AGE, Tags, Versions};

use crate::error::SharedError;
use crate::rate_limit::RedisStore;

/// The default size of the in-process tier (`RAMPART_CACHE_MAX_BYTES`).
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// What a request waiting on another's computation of its key gets: the entry it stored, or
/// the server error it met (each waiter then answers that error, or its stale entry where
/// `stale_if_error` allows, rather than every waiter running the computation again against
/// a database that is failing). A leader whose answer is neither (not storable, or it went
/// away) shares nothing, and each waiter computes its own.
#[derive(Debug, Clone)]
pub(crate) enum Shared {
    Entry(Arc<Entry>),
    Failed(Arc<SharedError>),
}

/// The response cache of an app: the in-process tier, the Redis tier through the tags'
/// connection, and the computations in flight. Clones share it.
#[derive(Clone)]
pub struct ResponseCache {
    inner: Arc<Inner>,
}

struct Inner {
    local: moka::sync::Cache<[u8; 32], Arc<Entry>, foldhash::fast::RandomState>,
    tags: Tags,
    flights: Mutex<HashMap<[u8; 32], watch::Receiver<Option<Shared>>>>,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("entries", &self.inner.local.entry_count())
            .field("bytes", &self.inner.local.weighted_size())
            .finish_non_exhaustive()
    }
}

/// Where a request stands with the computation of its key.
pub(crate) enum Flight {
    /// It computes; dropping the leader without [`Leader::finish`] lets the waiters compute.
    Leader(Leader),
    /// Another request of this instance computes; wait for its answer.
    Follower(watch::Receiver<Option<Shared>>),
}

/// The request that computes a key for everyone waiting on it.
pub(crate) struct Leader {
    cache: ResponseCache,
    key: [u8; 32],
    sender: watch::Sender<Option<Shared>>,
}

impl Leader {
    /// Hands `entry` to every request waiting on this key.
    pub(crate) fn finish(self, entry: Arc<Entry>) {
        self.sender.send_replace(Some(Shared::Entry(entry)));
    }

    /// Hands the server error this computation met to every request waiting on this key.
    pub(crate) fn fail(self, error: SharedError) {
        self.sender
            .send_replace(Some(Shared::Failed(Arc::new(error))));
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        self.cache
            .inner
            .flights
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
    }
}

impl ResponseCache {
    /// A cache whose in-process tier holds at most `max_bytes`, with `tags`' versions (and
    /// its Redis, when it has one, for the shared tier).
    pub fn new(max_bytes: u64, tags: Tags) -> Self {
        let local = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|_key, entry: &Arc<Entry>| entry.weight())
            .expire_after(Lifetime)
            .eviction_listener(|_key, entry: Arc<Entry>, cause| {
                if cause == moka::notification::RemovalCause::Size {
                    metrics::counter!("rampart_cache_evictions_total", "endpoint" => entry.endpoint)
                        .increment(1);
                }
            })
            .build_with_hasher(foldhash::fast::RandomState::default());
        Self {
            inner: Arc::new(Inner {
                local,
                tags,
                flights: Mutex::default(),
            }),
        }
    }

    /// The tag versions.
    pub fn tags(&self) -> &Tags {
        &self.inner.tags
    }

    /// The in-process entry of `key`.
    pub(crate) fn local(&self, key: &CacheKey) -> Option<Arc<Entry>> {
        self.inner.local.get(&key.bytes)
    }

    /// Keeps `entry` in the in-process tier.
    pub(crate) fn keep_local(&self, key: &CacheKey, entry: Arc<Entry>) {
        self.inner.local.insert(key.bytes, entry);
    }

    /// The Redis of the shared tier, unless it failed a moment ago.
    pub(crate) fn redis(&self) -> Option<&RedisStore> {
        self.inner.tags.redis()
    }

    /// Joins the computation of `key` in flight on this instance, or leads it.
    pub(crate) fn flight(&self, key: &CacheKey) -> Flight {
        let mut flights = self
            .inner
            .flights
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(receiver) = flights.get(&key.bytes) {
            return Flight::Follower(receiver.clone());
        }
        let (sender, receiver) = watch::channel(None);
        flights.insert(key.bytes, receiver);
        Flight::Leader(Leader {
            cache: self.clone(),
            key: key.bytes,
            sender,
        })
    }

    /// Stores `entry` in Redis for its whole life (fresh and stale), and frees the lock.
    pub(crate) async fn keep_shared(&self, key: &CacheKey, entry: &Entry) {
        let (Some(store), Some(bytes)) = (self.redis(), entry.encode()) else {
            return;
        };
        let life = entry.fresh_ms.saturating_add(entry.stale_ms).max(1);
        let mut connection = store.connection();
        let stored: redis::RedisResult<()> = redis::cmd("SET")
            .arg(key.entry(store))
            .arg(bytes)
            .arg("PX")
            .arg(life)
            .query_async(&mut connection)
            .await;
        // Counted, but not a reason to stop reading Redis: a full Redis refuses writes
        // (`maxmemory`) and still answers reads and bumps.
        if let Err(error) = stored {
            tracing::warn!(error = %error, "a response cache entry could not be stored in Redis");
            metrics::counter!("rampart_cache_backend_errors_total").increment(1);
        }
    }

    /// Tries to take the cross-instance lock on computing `key` for `hold`: `Some(token)`
    /// when taken, `None` when another instance holds it; Redis failing counts as taken
    /// (each instance then computes for itself).
    pub(crate) async fn lock(&self, key: &CacheKey, hold: std::time::Duration) -> LockOutcome {
        let Some(store) = self.redis() else {
            return LockOutcome::Unshared;
        };
        let token = uuid::Uuid::new_v4().simple().to_string();
        let mut connection = store.connection();
        let taken: redis::RedisResult<Option<String>> = redis::cmd("SET")
            .arg(key.lock(store))
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(u64::try_from(hold.as_millis()).unwrap_or(u64::MAX).max(1))
            .query_async(&mut connection)
            .await;
        match taken {
            Ok(Some(_)) => LockOutcome::Taken(token),
            Ok(None) => LockOutcome::Held,
            Err(error) => {
                self.inner.tags.failed(&error);
                LockOutcome::Unshared
            }
        }
    }

    /// Frees the lock `token` took on `key` (if it is still that lock).
    pub(crate) async fn unlock(&self, key: &CacheKey, token: &str) {
        let Some(store) = self.redis() else {
            return;
        };
        let script = redis::Script::new(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
        );
        let mut connection = store.connection();
        let freed: redis::RedisResult<i64> = script
            .key(key.lock(store))
            .arg(token)
            .invoke_async(&mut connection)
            .await;
        if let Err(error) = freed {
            self.inner.tags.failed(&error);
        }
    }
}

/// What taking the cross-instance lock did.
pub(crate) enum LockOutcome {
    /// This instance computes; free it with [`ResponseCache::unlock`].
    Taken(String),
    /// Another instance computes.
    Held,
    /// No Redis (or it failed): compute.
    Unshared,
}

/// How long the in-process tier keeps an entry: until it may no longer answer at all.
struct Lifetime;

impl moka::Expiry<[u8; 32], Arc<Entry>> for Lifetime {
    fn expire_after_create(
        &self,
        _key: &[u8; 32],
        entry: &Arc<Entry>,
        _created_at: std::time::Instant,
    ) -> Option<std::time::Duration> {
        Some(std::time::Duration::from_millis(
            entry.last_use().saturating_sub(now_ms()),
        ))
    }

    fn expire_after_update(
        &self,
        key: &[u8; 32],
        entry: &Arc<Entry>,
        updated_at: std::time::Instant,
        _duration_until_expiry: Option<std::time::Duration>,
    ) -> Option<std::time::Duration> {
        self.expire_after_create(key, entry, updated_at)
    }
}
