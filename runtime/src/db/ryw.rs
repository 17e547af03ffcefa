//! Read-your-writes with a read replica: after a principal writes, its reads go to the primary
//! for `RAMPART_READ_YOUR_WRITES` (5 s by default), so that it never reads from a replica that
//! has not replayed its write yet; everyone else's reads keep using the replica.
//!
//! - A write by a request with a user (a statement on the primary through [`Db::write`] or the
//!   resource store, or a transaction's commit) records "user U wrote, until now + window": in
//!   this process, and in Redis (`<prefix>:ryw:<user>`, `SET .. PX window`) when the app has
//!   Redis, so that every instance honours it.
//! - A read by a user, when a replica is in use, asks this process first, then Redis, at most
//!   once per request (the answer is kept in the request context). Redis failing never fails a
//!   read: the user is taken to have written (the read goes to the primary), and counted.
//! - A request whose context says `primary_reads` (a cache refill) reads the primary, always.
//!
//! Without a replica none of this runs: no lookup, no record, no Redis command.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use uuid::Uuid;

use crate::context;
use crate::rate_limit::RedisStore;

/// The default `RAMPART_READ_YOUR_WRITES`.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(5);

/// How long Redis is left alone after a command failed (its reads go to the primary).
const REDIS_BACKOFF: Duration = Duration::from_secs(1);

/// Past this many users, expired records are dropped from the in-process map.
const PRUNE_AT: usize = 4096;

/// Who wrote recently (clones share it).
#[derive(Clone, Default)]
pub struct RecentWrites {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    window: Duration,
    /// User → unix ms until which its reads go to the primary.
    local: Mutex<HashMap<Uuid, u64>>,
    redis: OnceLock<RedisStore>,
    /// Unix ms before which Redis is not tried again.
    retry_at: AtomicU64,
}

impl std::fmt::Debug for RecentWrites {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecentWrites")
            .field("window", &self.inner.window)
            .field("redis", &self.inner.redis.get().is_some())
            .finish_non_exhaustive()
    }
}

/// Where a read goes, and why (the `outcome` of `rampart_read_your_writes_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route {
    /// The replica: no write by this user within the window (or no user).
    Replica,
    /// The primary: the user wrote within the window (or Redis could not say).
    Window,
    /// The primary: the request reads the primary throughout (a cache refill).
    Refill,
}

impl Route {
    pub(super) fn primary(self) -> bool {
        self != Route::Replica
    }

    fn label(self) -> &'static str {
        match self {
            Route::Replica => "replica",
            Route::Window => "window",
            Route::Refill => "refill",
        }
    }

    pub(super) fn count(self) {
        metrics::counter!("rampart_read_your_writes_total", "outcome" => self.label()).increment(1);
    }
}

fn now_ms() -> u64 {
    crate::cache::now_ms()
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl RecentWrites {
    /// Records for `window` (zero: off).
    pub fn new(window: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                window,
                ..Inner::default()
            }),
        }
    }

    /// The window (zero: read-your-writes is off).
    pub fn window(&self) -> Duration {
        self.inner.window
    }

    /// Shares the records through `redis` from now on (the first call wins).
    pub fn connect(&self, redis: RedisStore) {
        let _ = self.inner.redis.set(redis);
    }

    fn redis(&self) -> Option<&RedisStore> {
        self.inner.redis.get()
    }

    fn redis_failed(&self, error: &redis::RedisError) {
        let retry_at = now_ms().saturating_add(millis(REDIS_BACKOFF));
        let previous = self.inner.retry_at.swap(retry_at, Ordering::Relaxed);
        if previous <= now_ms() {
            tracing::warn!(error = %error, "read-your-writes cannot reach Redis: users' reads go to the primary until it returns");
        }
        metrics::counter!("rampart_read_your_writes_redis_errors_total").increment(1);
    }

    fn key(store: &RedisStore, user: Uuid) -> String {
        store.prefixed(&format!("ryw:{}", user.simple()))
    }

    /// Whether `user` wrote within the window, by this process's records alone.
    fn local(&self, user: Uuid) -> bool {
        let local = self
            .inner
            .local
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        local.get(&user).is_some_and(|until| *until > now_ms())
    }

    /// Notes that the current request's user wrote (nothing without a user, or with the window
    /// off): its reads go to the primary for the window, on this instance at once and on the
    /// others through Redis.
    pub(super) async fn wrote(&self) {
        let window = self.inner.window;
        if window.is_zero() {
            return;
        }
        let Some(user) = context::with(|c| {
            c.set_recent_write(true);
            c.user_id()
        })
        .flatten() else {
            return;
        };
        let now = now_ms();
        {
            let mut local = self
                .inner
                .local
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if local.len() >= PRUNE_AT {
                local.retain(|_, until| *until > now);
            }
            local.insert(user, now.saturating_add(millis(window)));
        }
        let Some(store) = self.redis() else {
            return;
        };
        if now < self.inner.retry_at.load(Ordering::Relaxed) {
            // Redis failed a moment ago; other instances' lookups fail too and read the primary.
            metrics::counter!("rampart_read_your_writes_redis_errors_total").increment(1);
            return;
        }
        let mut connection = store.connection();
        let set: Result<(), _> = redis::cmd("SET")
            .arg(Self::key(store, user))
            .arg(1)
            .arg("PX")
            .arg(millis(window).max(1))
            .query_async(&mut connection)
            .await;
        if let Err(error) = set {
            self.redis_failed(&error);
        }
    }

    /// Where the current request's reads go, knowing only what needs no round trip: `None`
    /// when Redis would have to be asked.
    pub(super) fn route_now(&self) -> Option<Route> {
        let (forced, user, memo) =
            context::with(|c| (c.primary_reads(), c.user_id(), c.recent_write()))?;
        if forced {
            return Some(Route::Refill);
        }
        if self.inner.window.is_zero() {
            return Some(Route::Replica);
        }
        let user = user?;
        let recent = match memo {
            Some(recent) => recent,
            None if self.local(user) => {
                context::with(|c| c.set_recent_write(true));
                true
            }
            None if self.redis().is_some() => return None,
            None => {
                context::with(|c| c.set_recent_write(false));
                false
            }
        };
        Some(if recent {
            Route::Window
        } else {
            Route::Replica
        })
    }

    /// Where the current request's reads go: [`RecentWrites::route_now`], else Redis's answer
    /// (once per request; a failure reads the primary).
    pub(super) async fn route(&self) -> Route {
        if let Some(route) = self.route_now() {
            return route;
        }
        // `route_now` answers unless there is a user, no record here, and Redis.
        let (Some(user), Some(store)) = (context::with(|c| c.user_id()).flatten(), self.redis())
        else {
            return Route::Replica;
        };
        let recent = if now_ms() < self.inner.retry_at.load(Ordering::Relaxed) {
            metrics::counter!("rampart_read_your_writes_redis_errors_total").increment(1);
            true
        } else {
            let mut connection = store.connection();
            let found: Result<bool, _> = redis::cmd("EXISTS")
                .arg(Self::key(store, user))
                .query_async(&mut connection)
                .await;
            match found {
                Ok(found) => found,
                Err(error) => {
                    self.redis_failed(&error);
                    true
                }
            }
        };
        context::with(|c| c.set_recent_write(recent));
        if recent {
            Route::Window
        } else {
            Route::Replica
        }
    }
}
