//! One lookup through the cache, whatever is cached (an endpoint's response, a repository
//! query's rows): find the entry, in this instance or in Redis; when none answers, let one
//! request compute the key for everyone waiting on it (one per instance through a flight,
//! one across instances through a short Redis lock, the others polling Redis for the entry);
//! store what was computed only if no write moved the tags meanwhile.
//!
//! The caller supplies the computation and turns an entry into its own answer; this module
//! decides which of the two a request gets.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::tags::now_ms;
use super::{
    CacheKey, Entry, Flight, Leader, LockOutcome, ResponseCache, Shared, Standing, Versions,
};
use crate::error::SharedError;

/// What is cached under a key, fixed where it is declared.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec {
    /// The endpoint or query (metrics, logs).
    pub(crate) name: &'static str,
    /// The tags whose writes make its entries stale.
    pub(crate) tags: &'static [&'static str],
    pub(crate) fresh_ms: u64,
    pub(crate) stale_ms: u64,
    /// How long a request waits for another instance computing its key before computing it
    /// itself.
    pub(crate) wait: Duration,
}

impl Spec {
    fn limits(&self) -> (u64, u64) {
        (self.fresh_ms, self.stale_ms)
    }
}

/// How often a request waiting on another instance looks for the entry.
const POLL: Duration = Duration::from_millis(20);

/// How an answer came from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum How {
    /// A fresh entry.
    Hit,
    /// Computed by this request and stored.
    Stored,
    /// Computed by another request, which this one waited for.
    Collapsed,
    /// The last entry, past its freshness, because computing failed.
    Stale,
}

impl How {
    /// Its `outcome` label in `rampart_cache_total`.
    pub(crate) fn outcome(self) -> &'static str {
        match self {
            How::Hit => "hit",
            How::Stored => "miss",
            How::Collapsed => "collapsed",
            How::Stale => "stale",
        }
    }
}

/// Counts one answer of `name` in `rampart_cache_total`.
pub(crate) fn count(name: &'static str, outcome: &'static str) {
    metrics::counter!("rampart_cache_total", "endpoint" => name, "outcome" => outcome).increment(1);
}

/// What the lookup found for a key.
pub(crate) struct Found {
    pub(crate) key: CacheKey,
    /// The tags' versions before anything was computed: an entry computed now is stored only
    /// if they have not moved when it is done.
    pub(crate) versions: Versions,
    /// The best entry there is, and where it stands.
    pub(crate) entry: Option<(Arc<Entry>, Standing)>,
}

impl Found {
    /// The entry that answers when computing fails, and how: a fresh one (its early refresh
    /// failed) as the hit it still is, any other as stale.
    pub(crate) fn fallback(&self) -> Option<(&Arc<Entry>, How)> {
        self.entry.as_ref().map(|(entry, standing)| match standing {
            Standing::Fresh => (entry, How::Hit),
            Standing::Stale | Standing::Gone => (entry, How::Stale),
        })
    }
}

/// What a request gets: an entry, what it computed, or the server error the request that
/// computed its key for it met (when it has no entry that may answer instead).
pub(crate) enum Served<R> {
    Entry(Arc<Entry>, How),
    Computed(R),
    Failed(Arc<SharedError>),
}

impl ResponseCache {
    /// Reads the versions and the entry of `key`: this instance's entry, or Redis's when
    /// this instance has none that answers.
    pub(crate) async fn find(&self, spec: &Spec, key: CacheKey) -> Found {
        let local = self.local(&key);
        let now = now_ms();
        let local_fresh = |versions: &Versions| {
            local
                .as_ref()
                .is_some_and(|entry| entry.standing(versions, now) == Standing::Fresh)
        };
        // The versions alone first when this instance may hold the answer, the versions and
        // Redis's entry together otherwise: one round trip either way.
        let remote_key = self.redis().map(|store| key.entry(store));
        let (versions, remote) = match local {
            Some(_) => {
                let (versions, _) = self.tags().read(spec.tags, None).await;
                if local_fresh(&versions) || remote_key.is_none() {
                    (versions, None)
                } else {
                    self.tags().read(spec.tags, remote_key.as_deref()).await
                }
            }
            None => self.tags().read(spec.tags, remote_key.as_deref()).await,
        };
        let remote = remote
            .and_then(|bytes| Entry::decode(spec.name, bytes, &versions.local, spec.limits()))
            .map(Arc::new);
        let standing = |entry: Arc<Entry>| {
            let standing = entry.standing(&versions, now);
            (standing != Standing::Gone).then_some((entry, standing))
        };
        let local = local.and_then(standing);
        let remote = remote.and_then(standing);
        let entry = match (local, remote) {
            (Some(local), _) if local.1 == Standing::Fresh => Some(local),
            (_, Some(remote)) if remote.1 == Standing::Fresh => {
                self.keep_local(&key, remote.0.clone());
                Some(remote)
            }
            // Both stale: the more recent answers under error.
            (Some(local), Some(remote)) => Some(if remote.0.stored_at > local.0.stored_at {
                remote
            } else {
                local
            }),
            (local, remote) => local.or(remote),
        };
        Found {
            key,
            versions,
            entry,
        }
    }

    /// The fresh entry of `found`, or the entry another request of this instance or another
    /// instance computes meanwhile, or what `compute` gives this request (it leads the
    /// computation for this instance's waiters when it gets a [`Leader`], and must then
    /// [`ResponseCache::keep`] what it stores through it).
    pub(crate) async fn serve<R, F, Fut>(&self, spec: &Spec, found: Found, compute: F) -> Served<R>
    where
        F: FnOnce(Found, Option<Leader>) -> Fut,
        Fut: Future<Output = R>,
    {
        if let Some((entry, Standing::Fresh)) = &found.entry {
            if !entry.refresh_early(now_ms()) {
                return Served::Entry(entry.clone(), How::Hit);
            }
            // Refreshed by this request alone: if another is at it already, this one answers
            // from the entry.
            return match self.flight(&found.key) {
                Flight::Follower(_) => Served::Entry(entry.clone(), How::Hit),
                Flight::Leader(leader) => Served::Computed(compute(found, Some(leader)).await),
            };
        }
        match self.flight(&found.key) {
            Flight::Follower(mut receiver) => {
                // An error: the leader's answer could not be shared (not stored, or it went
                // away), and this request computes its own.
                let shared = receiver
                    .wait_for(Option::is_some)
                    .await
                    .ok()
                    .and_then(|shared| shared.clone());
                match shared {
                    Some(Shared::Entry(entry)) => Served::Entry(entry, How::Collapsed),
                    // The leader failed: the database is failing now, and running the
                    // computation again for each waiter would only add to its load. The stale
                    // entry answers where there is one, as it does for the leader.
                    Some(Shared::Failed(error)) => match found.fallback() {
                        Some((entry, how)) => Served::Entry(entry.clone(), how),
                        None => Served::Failed(error),
                    },
                    None => Served::Computed(compute(found, None).await),
                }
            }
            Flight::Leader(leader) => {
                // A leader of this instance may have stored the entry and gone between this
                // request's lookup and its flight.
                if let Some(entry) = self.local(&found.key)
                    && entry.standing(&found.versions, now_ms()) == Standing::Fresh
                {
                    leader.finish(entry.clone());
                    return Served::Entry(entry, How::Collapsed);
                }
                let token = match self.lock(&found.key, spec.wait).await {
                    LockOutcome::Taken(token) => {
                        let held = Unlock(Some((self.clone(), found.key.clone(), token)));
                        // Another instance may have stored the entry and let go of the lock
                        // between this request's lookup and its lock.
                        if let Some(entry) = self.fresh_in_redis(spec, &found.key).await {
                            leader.finish(entry.clone());
                            return Served::Entry(entry, How::Collapsed);
                        }
                        Some(held)
                    }
                    LockOutcome::Unshared => None,
                    LockOutcome::Held => {
                        if let Some(entry) = self.wait_for_other_instance(spec, &found.key).await {
                            leader.finish(entry.clone());
                            return Served::Entry(entry, How::Collapsed);
                        }
                        None
                    }
                };
                // Held to the end, and freed when dropped: on the way out, or if this request
                // is cancelled (its timeout, a client gone), so other instances need not wait
                // it out.
                let _lock = token;
                Served::Computed(compute(found, Some(leader)).await)
            }
        }
    }

    /// Stores `entry`, computed for `found`, in both tiers and hands it to the requests
    /// waiting on `leader` — if the tags' versions did not move while it was computed (a
    /// write that committed meanwhile may or may not be in it: it is answered, but not stored
    /// as fresh, and the next request computes again). Whether it was stored.
    pub(crate) async fn keep(
        &self,
        spec: &Spec,
        found: &Found,
        entry: &Arc<Entry>,
        leader: Option<Leader>,
    ) -> bool {
        let (after, _) = self.tags().read(spec.tags, None).await;
        if after != found.versions {
            return false;
        }
        self.keep_local(&found.key, entry.clone());
        self.keep_shared(&found.key, entry).await;
        if let Some(leader) = leader {
            leader.finish(entry.clone());
        }
        true
    }

    /// Polls Redis for the entry another instance is computing, until `spec.wait` is over.
    async fn wait_for_other_instance(&self, spec: &Spec, key: &CacheKey) -> Option<Arc<Entry>> {
        let deadline = tokio::time::Instant::now() + spec.wait;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(POLL).await;
            if let Some(entry) = self.fresh_in_redis(spec, key).await {
                return Some(entry);
            }
        }
        None
    }

    /// Redis's entry of `key`, if it is fresh now (kept in this instance too).
    async fn fresh_in_redis(&self, spec: &Spec, key: &CacheKey) -> Option<Arc<Entry>> {
        let store = self.redis()?;
        let entry_key = key.entry(store);
        let (versions, bytes) = self.tags().read(spec.tags, Some(&entry_key)).await;
        let entry = Entry::decode(spec.name, bytes?, &versions.local, spec.limits())?;
        if entry.standing(&versions, now_ms()) != Standing::Fresh {
            return None;
        }
        let entry = Arc::new(entry);
        self.keep_local(key, entry.clone());
        Some(entry)
    }
}

/// Frees the cross-instance lock when dropped, off the answer's path.
struct Unlock(Option<(ResponseCache, CacheKey, String)>);

impl Drop for Unlock {
    fn drop(&mut self) {
        if let Some((cache, key, token)) = self.0.take() {
            // In the request's context: a failure's line names the request.
            crate::task::try_spawn(async move { cache.unlock(&key, &token).await });
        }
    }
}
