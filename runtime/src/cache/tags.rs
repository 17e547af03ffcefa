//! Tag versions: a counter per tag, bumped by every write that makes entries of the tag
//! stale. An entry records the versions it was computed under and answers only while they
//! are unchanged, so invalidation is one `INCR` per tag and reaches every instance at once
//! (each lookup reads the versions with the entry, in one round trip), with no list of
//! entries to find and delete.
//!
//! - With Redis, the versions that count are Redis's: one hash (`<prefix>:cache:tags`) holds
//!   a counter per tag and an epoch, so that the counters cannot be lost one by one (an
//!   eviction takes the whole hash, and the next lookup sets a new epoch): counters that
//!   restart from zero can never make an old entry look current. A Redis restored from a
//!   snapshot older than its last bumps can (the counters and the epoch go back together):
//!   run it with `appendonly yes`, and `maxmemory-policy noeviction` or a `volatile-*` policy
//!   (the hash has no expiry).
//! - Every instance also counts its own writes locally. Without Redis those are the versions;
//!   while Redis cannot be reached they are what an instance still knows, and entries then
//!   answer for at most [`DEGRADED_MAX_AGE`] (other instances' writes cannot reach it).
//! - A bump that cannot reach Redis is kept, retried in the background until Redis takes it,
//!   and meanwhile this instance judges entries of every tag by its own counts (for at most
//!   [`DEGRADED_MAX_AGE`]), so the writer's own instance never answers from before its write.
//!   Other instances, which still reach Redis, cannot know of it until it lands: their entries
//!   of the tag answer until then, for at most their time to live.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use crate::rate_limit::RedisStore;

/// How long an entry answers while Redis cannot be reached: the bound on how stale a read can
/// be when other instances' writes cannot reach this one.
pub const DEGRADED_MAX_AGE: Duration = Duration::from_secs(5);

/// How long Redis is left alone after a command failed, so that requests do not each wait for
/// its timeout while it is down.
const REDIS_BACKOFF: Duration = Duration::from_secs(1);

/// How often bumps that did not reach Redis are tried again.
const RETRY_EVERY: Duration = Duration::from_millis(250);

/// The epoch is the hash's `@epoch` field (a tag is `[a-z0-9_.:-]+`: never that).
/// KEYS[1]: the tags hash; KEYS[2]: an entry, or the hash again when none is wanted.
/// ARGV[1]: an epoch to set when there is none; ARGV[2]: "1" when the entry is wanted;
/// ARGV[3..]: tags. Returns {epoch, entry or false, version...}.
const LOOKUP: &str = r"
local epoch = redis.call('HGET', KEYS[1], '@epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('HSET', KEYS[1], '@epoch', epoch)
end
local entry = false
if ARGV[2] == '1' then
  entry = redis.call('GET', KEYS[2])
end
local out = {epoch, entry}
for i = 3, #ARGV do
  out[i] = redis.call('HGET', KEYS[1], ARGV[i]) or '0'
end
return out
";

/// The versions of a request's tags, read together.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Versions {
    /// This instance's own counts of its writes.
    pub local: Vec<u64>,
    /// Redis's epoch and counters, when Redis answered.
    pub remote: Option<Remote>,
    /// Redis is configured but did not answer.
    pub degraded: bool,
}

/// Redis's view of a set of tags.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Remote {
    /// Changes when Redis loses its data.
    pub epoch: String,
    /// One counter per tag.
    pub versions: Vec<u64>,
}

/// The tag versions of an app (clones share them).
#[derive(Clone, Default)]
pub struct Tags {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    local: Mutex<HashMap<Box<str>, u64>>,
    redis: OnceLock<(RedisStore, redis::Script)>,
    /// Bumps that did not reach Redis.
    pending: Mutex<BTreeSet<Box<str>>>,
    /// Unix ms before which Redis is not tried again.
    retry_at: AtomicU64,
    /// A background task is retrying the pending bumps.
    retrying: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Tags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tags")
            .field("redis", &self.inner.redis.get().is_some())
            .finish_non_exhaustive()
    }
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

impl Tags {
    /// Shares the versions through `redis` from now on (the first call wins).
    pub fn connect(&self, redis: RedisStore) {
        let _ = self.inner.redis.set((redis, redis::Script::new(LOOKUP)));
    }

    /// The Redis the versions live in, unless it failed a moment ago.
    pub(crate) fn redis(&self) -> Option<&RedisStore> {
        self.usable().map(|(store, _)| store)
    }

    fn usable(&self) -> Option<&(RedisStore, redis::Script)> {
        let redis = self.inner.redis.get()?;
        (now_ms() >= self.inner.retry_at.load(Ordering::Relaxed)).then_some(redis)
    }

    /// Notes that Redis failed: it is left alone for a moment.
    pub(crate) fn failed(&self, error: &redis::RedisError) {
        let retry_at = now_ms().saturating_add(REDIS_BACKOFF.as_millis() as u64);
        let previous = self.inner.retry_at.swap(retry_at, Ordering::Relaxed);
        if previous <= now_ms() {
            tracing::warn!(error = %error, "the response cache cannot reach Redis: entries answer for at most 5 s until it returns");
        }
        metrics::counter!("rampart_cache_backend_errors_total").increment(1);
    }

    pub(crate) fn local_versions(&self, tags: &[&str]) -> Vec<u64> {
        let local = self
            .inner
            .local
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        tags.iter()
            .map(|tag| local.get(*tag).copied().unwrap_or(0))
            .collect()
    }

    /// The versions of `tags`, and the Redis entry `entry` when asked for (one round trip).
    pub(crate) async fn read(
        &self,
        tags: &[&str],
        entry: Option<&str>,
    ) -> (Versions, Option<Vec<u8>>) {
        let local = self.local_versions(tags);
        let Some((store, script)) = self.inner.redis.get() else {
            return (
                Versions {
                    local,
                    remote: None,
                    degraded: false,
                },
                None,
            );
        };
        let degraded = Versions {
            local: local.clone(),
            remote: None,
            degraded: true,
        };
        // A bump of this instance that Redis has not taken: Redis's counters are behind it.
        if self.usable().is_none() || !self.flush(store).await {
            return (degraded, None);
        }
        let hash = tags_key(store);
        let mut invocation = script.prepare_invoke();
        invocation
            .key(&hash)
            .key(entry.unwrap_or(&hash))
            .arg(uuid::Uuid::new_v4().simple().to_string())
            .arg(if entry.is_some() { "1" } else { "0" });
        for tag in tags {
            invocation.arg(*tag);
        }
        let mut connection = store.connection();
        let reply: Result<Vec<redis::Value>, _> = crate::spans::in_span(
            crate::spans::redis("cache.lookup"),
            invocation.invoke_async(&mut connection),
        )
        .await;
        let reply = match reply {
            Ok(reply) => reply,
            Err(error) => {
                self.failed(&error);
                return (degraded, None);
            }
        };
        let mut values = reply.into_iter();
        let epoch = values.next().and_then(|value| text(&value));
        let stored = values.next().and_then(|value| match value {
            redis::Value::BulkString(bytes) => Some(bytes),
            _ => None,
        });
        let versions: Option<Vec<u64>> = values
            .map(|value| text(&value).and_then(|text| text.parse().ok()))
            .collect();
        match (epoch, versions) {
            (Some(epoch), Some(versions)) if versions.len() == tags.len() => (
                Versions {
                    local,
                    remote: Some(Remote { epoch, versions }),
                    degraded: false,
                },
                stored,
            ),
            // A counter that is not a number was not written by rampart: nothing is trusted.
            _ => (degraded, None),
        }
    }

    /// Makes every entry of `tags` stale, here at once and on every instance through Redis
    /// (or as soon as Redis answers again).
    pub async fn bump(&self, tags: &[&str]) {
        if tags.is_empty() {
            return;
        }
        {
            let mut local = self
                .inner
                .local
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            for tag in tags {
                *local.entry(Box::from(*tag)).or_default() += 1;
            }
        }
        for tag in tags {
            metrics::counter!("rampart_cache_invalidations_total", "tag" => tag.to_string())
                .increment(1);
        }
        let Some(redis) = self.inner.redis.get() else {
            return;
        };
        {
            let mut pending = self
                .inner
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            pending.extend(tags.iter().map(|tag| Box::from(*tag)));
        }
        if self.usable().is_none() || !self.flush(&redis.0).await {
            self.retry_in_background();
        }
    }

    /// Sends the bumps Redis has not seen yet; whether none is left. The send runs as a task
    /// of its own: a request that goes away meanwhile cannot drop bumps it took.
    async fn flush(&self, store: &RedisStore) -> bool {
        let tags: Vec<Box<str>> = {
            let mut pending = self
                .inner
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            std::mem::take(&mut *pending).into_iter().collect()
        };
        if tags.is_empty() {
            return true;
        }
        let this = self.clone();
        let store = store.clone();
        let send = async move {
            let hash = tags_key(&store);
            let mut pipe = redis::pipe();
            for tag in &tags {
                pipe.hincr(&hash, &**tag, 1).ignore();
            }
            let mut connection = store.connection();
            match pipe.query_async::<()>(&mut connection).await {
                Ok(()) => true,
                Err(error) => {
                    this.failed(&error);
                    this.inner
                        .pending
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .extend(tags);
                    false
                }
            }
        };
        match tokio::runtime::Handle::try_current() {
            // The caller's context and span go with it: its warning names the request.
            Ok(runtime) => runtime
                .spawn(crate::task::carried(send))
                .await
                .unwrap_or(false),
            Err(_) => send.await,
        }
    }

    /// Tries the pending bumps again until Redis has taken them all (one task at a time).
    fn retry_in_background(&self) {
        let Some((store, _)) = self.inner.redis.get() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.inner.retrying.swap(true, Ordering::SeqCst) {
            return;
        }
        let (this, store) = (self.clone(), store.clone());
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(RETRY_EVERY).await;
                if this.usable().is_some() && this.flush(&store).await {
                    break;
                }
            }
            this.inner.retrying.store(false, Ordering::SeqCst);
            // A bump that came in as this task was ending.
            let left = !this
                .inner
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_empty();
            if left {
                this.retry_in_background();
            }
        });
    }
}

fn tags_key(store: &RedisStore) -> String {
    store.prefixed("cache:tags")
}

fn text(value: &redis::Value) -> Option<String> {
    match value {
        redis::Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        redis::Value::SimpleString(text) => Some(text.clone()),
        redis::Value::Int(number) => Some(number.to_string()),
        _ => None,
    }
}
