//! The cache of `#[query("..", cache(..))]` (cache-aside on a repository read): what the
//! query answered, kept as JSON in the same two tiers and under the same tag versions as the
//! endpoints' responses, so that a write through any store of the tables it reads makes it
//! stale on every instance. The key is the query and every value bound to it, the owner
//! among them for a scoped query: two callers who could be answered differently never share
//! an entry.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::lookup::{Found, How, Served, Spec, count};
use super::tags::now_ms;
use super::{CacheKey, Entry, Leader, MAX_ENTRY_BODY, ResponseCache};
use crate::error::{ApiError, SharedError};

/// What `cache(..)` on a `#[query]` declares.
#[derive(Debug, Clone, Copy)]
pub struct QueryPolicy {
    /// How long an entry answers without running the statement.
    pub ttl: Duration,
    /// How long after it stopped being fresh an entry may still answer when the statement
    /// fails with a server error (the database is down).
    pub stale_if_error: Duration,
    /// The tables the statement reads: a write to any of them makes its entries stale.
    pub tables: &'static [&'static str],
}

/// A cached `#[query]`, as the macro declares it.
#[derive(Debug, Clone, Copy)]
pub struct CachedQuery {
    /// `Repository.method`.
    pub label: &'static str,
    /// The statement, with positional parameters.
    pub sql: &'static str,
    /// Its cache.
    pub policy: QueryPolicy,
}

/// How long a refill waits for another instance computing the same entry.
const WAIT: Duration = Duration::from_secs(2);

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl ResponseCache {
    /// What `query` answers for its bound values (`values`, in their key form): a fresh entry, or `fetch` run once for everyone
    /// asking the same meanwhile (and stored if no write to its tables committed while it
    /// ran); when `fetch` fails with a server error, the last entry within `stale_if_error`,
    /// recorded on the request as stale (its response says so), and the same for everyone
    /// who waited on that `fetch` (none of them runs it again).
    /// `fetch` may run a second time for this request when an entry cannot be read back (it
    /// was written for another shape of the row, by another version of the app): logged and
    /// counted as `undecodable`.
    pub(crate) async fn through<T, F, Fut>(
        &self,
        query: &CachedQuery,
        values: &[u8],
        fetch: F,
    ) -> Result<T, ApiError>
    where
        T: Serialize + DeserializeOwned,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let spec = Spec {
            name: query.label,
            tags: query.policy.tables,
            fresh_ms: millis(query.policy.ttl),
            stale_ms: millis(query.policy.stale_if_error),
            wait: WAIT,
        };
        let key = CacheKey::of_query(query.label, query.sql, values);
        let found = self.find(&spec, key).await;
        let served = self
            .serve(&spec, found, |found, leader| {
                self.refill(&spec, found, leader, &fetch)
            })
            .await;
        match served {
            Served::Computed(answer) => answer,
            Served::Failed(error) => {
                count(query.label, "failed");
                Err(error.to_error())
            }
            Served::Entry(entry, how) => match decode(spec.name, &entry) {
                Some(value) => {
                    if how == How::Stale {
                        stale(spec.name, &entry);
                    } else {
                        count(query.label, how.outcome());
                    }
                    Ok(value)
                }
                None => fetch().await,
            },
        }
    }

    /// Runs the statement for `found.key` and stores its answer when it may.
    async fn refill<T, F, Fut>(
        &self,
        spec: &Spec,
        found: Found,
        leader: Option<Leader>,
        fetch: &F,
    ) -> Result<T, ApiError>
    where
        T: Serialize + DeserializeOwned,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let started = std::time::Instant::now();
        let value = match fetch().await {
            Ok(value) => value,
            Err(error) if error.code().status().is_server_error() => {
                // The waiters answer this error (or their stale entry) rather than each
                // running the statement again.
                if let Some(leader) = leader {
                    leader.fail(SharedError::of(&error));
                }
                let fallback = found
                    .fallback()
                    .and_then(|(entry, how)| Some((entry, how, decode::<T>(spec.name, entry)?)));
                return match fallback {
                    // A fresh entry whose early refresh failed: still the hit it was.
                    Some((_, How::Hit, value)) => {
                        count(spec.name, How::Hit.outcome());
                        Ok(value)
                    }
                    Some((entry, _, value)) => {
                        stale(spec.name, entry);
                        Ok(value)
                    }
                    None => Err(error),
                };
            }
            Err(error) => return Err(error),
        };
        let body = match serde_json::to_vec(&value) {
            Ok(body) if body.len() <= MAX_ENTRY_BODY => body,
            _ => {
                count(spec.name, "not_stored");
                return Ok(value);
            }
        };
        // An entry that would not decode back (a row type whose JSON leaves out a field
        // `Deserialize` requires) would be a miss on every read: it is not stored, and said.
        if serde_json::from_slice::<T>(&body).is_err() {
            tracing::warn!(
                query = spec.name,
                "the rows of a cached query do not decode from their JSON: not cached (the row type's serde leaves out a field it requires)"
            );
            count(spec.name, "undecodable");
            return Ok(value);
        }
        let entry = Arc::new(Entry {
            endpoint: spec.name,
            status: StatusCode::OK,
            headers: Vec::new(),
            body: Bytes::from(body),
            stored_at: now_ms(),
            fresh_ms: spec.fresh_ms,
            stale_ms: spec.stale_ms,
            compute_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            versions: found.versions.clone(),
        });
        let outcome = if self.keep(spec, &found, &entry, leader).await {
            How::Stored.outcome()
        } else {
            "not_stored"
        };
        count(spec.name, outcome);
        Ok(value)
    }
}

/// The rows of `entry`; `None`, logged and counted `undecodable`, when they do not decode
/// (an entry written for another shape of the row, by another version of the app).
fn decode<T: DeserializeOwned>(name: &'static str, entry: &Entry) -> Option<T> {
    match serde_json::from_slice(&entry.body) {
        Ok(value) => Some(value),
        Err(error) => {
            // Where and what kind, never the error's text: serde quotes the value it met,
            // and a row's values are the users' data.
            tracing::warn!(
                query = name,
                error_kind = ?error.classify(),
                line = error.line(),
                column = error.column(),
                "a cached query's entry does not decode: the statement runs instead"
            );
            count(name, "undecodable");
            None
        }
    }
}

/// Says that `entry` answered past its freshness: logged, counted `stale`, and recorded on
/// the request, whose response is marked stale and never stored as fresh by an endpoint's
/// cache.
fn stale(name: &'static str, entry: &Entry) {
    let age = entry.age(now_ms());
    tracing::warn!(
        query = name,
        age_seconds = age,
        "the query failed: answered from the cache, stale"
    );
    count(name, How::Stale.outcome());
    crate::context::used_stale(age);
}
