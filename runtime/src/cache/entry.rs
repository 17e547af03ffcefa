//! One stored answer, and its form in Redis.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use bytes::Bytes;

use super::tags::{DEGRADED_MAX_AGE, Remote, Versions};

/// The largest body an entry keeps; a larger answer is served but not stored.
pub const MAX_ENTRY_BODY: usize = 1024 * 1024;

/// The first byte of an entry in Redis: the layout's version.
const LAYOUT: u8 = 1;

/// The headers an entry keeps: those that describe its body.
pub(crate) const KEPT_HEADERS: [HeaderName; 3] = [
    axum::http::header::CONTENT_TYPE,
    axum::http::header::ETAG,
    axum::http::header::LAST_MODIFIED,
];

/// How far in the future an entry's time of storing may be (instances' clocks differ).
const CLOCK_SKEW_MS: u64 = 60_000;

/// A stored answer and what it was computed under.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The endpoint (for the eviction metric).
    pub endpoint: &'static str,
    pub(crate) status: StatusCode,
    /// The headers that describe the body (`Content-Type`, `ETag`...).
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) body: Bytes,
    /// Unix ms.
    pub(crate) stored_at: u64,
    pub(crate) fresh_ms: u64,
    pub(crate) stale_ms: u64,
    /// How long computing it took (for the early refresh).
    pub(crate) compute_ms: u64,
    /// The versions of its tags when it was computed.
    pub(crate) versions: Versions,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Meta {
    status: u16,
    headers: Vec<(String, String)>,
    stored_at: u64,
    fresh_ms: u64,
    stale_ms: u64,
    compute_ms: u64,
    remote: Remote,
}

/// Whether an entry may answer, given the versions its tags have now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Standing {
    /// Current and within its time to live.
    Fresh,
    /// Current but past its time to live, or made stale by a write: it answers only when the
    /// handler cannot (`stale_if_error`), within that window.
    Stale,
    /// Past every window.
    Gone,
}

impl Entry {
    /// Its age in whole seconds at `now`.
    pub(crate) fn age(&self, now: u64) -> u64 {
        now.saturating_sub(self.stored_at) / 1000
    }

    /// Seconds of freshness left at `now`.
    pub(crate) fn remaining(&self, now: u64) -> u64 {
        self.stored_at
            .saturating_add(self.fresh_ms)
            .saturating_sub(now)
            / 1000
    }

    pub(crate) fn expires_at(&self) -> u64 {
        self.stored_at.saturating_add(self.fresh_ms)
    }

    /// The last moment it may answer at all.
    pub(crate) fn last_use(&self) -> u64 {
        self.expires_at().saturating_add(self.stale_ms)
    }

    /// What it may do now, under `current`.
    pub(crate) fn standing(&self, current: &Versions, now: u64) -> Standing {
        if now >= self.last_use() {
            return Standing::Gone;
        }
        let current_versions = match (&current.remote, current.degraded) {
            // Redis answered: its counters decide.
            (Some(remote), _) => self.versions.remote.as_ref() == Some(remote),
            // Redis is down: only this instance's writes are known, for a few seconds.
            (None, true) => {
                self.versions.local == current.local
                    && now.saturating_sub(self.stored_at) <= DEGRADED_MAX_AGE.as_millis() as u64
            }
            // No Redis: this instance's counters are the only ones.
            (None, false) => self.versions.local == current.local && !self.versions.degraded,
        };
        if current_versions && now < self.expires_at() {
            Standing::Fresh
        } else {
            Standing::Stale
        }
    }

    /// Whether this request should compute the entry again although it is fresh: with a
    /// probability that grows as expiry nears, scaled by how long computing takes
    /// (probabilistic early expiration), so a hot key is refreshed by one request before it
    /// expires instead of by all of them after.
    pub(crate) fn refresh_early(&self, now: u64) -> bool {
        let left = self.expires_at().saturating_sub(now);
        let delta = self.compute_ms.max(1);
        // Beyond ~20 computations away the probability is below e^-20: not worth a draw.
        if left > delta.saturating_mul(20) {
            return false;
        }
        let Ok(random) = getrandom::u64() else {
            return false;
        };
        // u in (0, 1]; -ln(u) is exponentially distributed with mean 1.
        let u = ((random >> 11) as f64 + 1.0) / ((1u64 << 53) as f64);
        (delta as f64) * -u.ln() >= left as f64
    }

    /// Its bytes in Redis: `None` when it cannot be kept there (stored without Redis).
    pub(crate) fn encode(&self) -> Option<Vec<u8>> {
        let meta = Meta {
            status: self.status.as_u16(),
            headers: self
                .headers
                .iter()
                .map(|(name, value)| {
                    Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
                })
                .collect::<Option<_>>()?,
            stored_at: self.stored_at,
            fresh_ms: self.fresh_ms,
            stale_ms: self.stale_ms,
            compute_ms: self.compute_ms,
            remote: self.versions.remote.clone()?,
        };
        let meta = serde_json::to_vec(&meta).ok()?;
        let length = u32::try_from(meta.len()).ok()?;
        let mut bytes = Vec::with_capacity(5 + meta.len() + self.body.len());
        bytes.push(LAYOUT);
        bytes.extend_from_slice(&length.to_be_bytes());
        bytes.extend_from_slice(&meta);
        bytes.extend_from_slice(&self.body);
        Some(bytes)
    }

    /// An entry read from Redis, for an endpoint whose entries are fresh for `fresh_ms` and
    /// stale for `stale_ms`; `None` for bytes rampart did not write. What it says is not
    /// trusted beyond what rampart stores: a 200, the body's own headers only, lifetimes no
    /// longer than the endpoint's, a time of storing not in the future.
    pub(crate) fn decode(
        endpoint: &'static str,
        bytes: Vec<u8>,
        local: &[u64],
        (fresh_ms, stale_ms): (u64, u64),
    ) -> Option<Self> {
        let (&layout, rest) = bytes.split_first()?;
        if layout != LAYOUT || rest.len() < 4 {
            return None;
        }
        let (length, rest) = rest.split_at(4);
        let length = usize::try_from(u32::from_be_bytes(length.try_into().ok()?)).ok()?;
        if rest.len() < length {
            return None;
        }
        let (meta, body) = rest.split_at(length);
        let meta: Meta = serde_json::from_slice(meta).ok()?;
        if meta.status != 200
            || meta.stored_at > super::now_ms().saturating_add(CLOCK_SKEW_MS)
            || meta.fresh_ms > fresh_ms
            || meta.stale_ms > stale_ms
        {
            return None;
        }
        let headers = meta
            .headers
            .into_iter()
            .map(|(name, value)| {
                let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
                KEPT_HEADERS.contains(&name).then_some(())?;
                Some((name, HeaderValue::from_str(&value).ok()?))
            })
            .collect::<Option<_>>()?;
        Some(Self {
            endpoint,
            status: StatusCode::from_u16(meta.status).ok()?,
            headers,
            body: Bytes::copy_from_slice(body),
            stored_at: meta.stored_at,
            fresh_ms: meta.fresh_ms,
            stale_ms: meta.stale_ms,
            compute_ms: meta.compute_ms.min(meta.fresh_ms),
            versions: Versions {
                // Checked against Redis's counters, which answered with it.
                local: local.to_vec(),
                remote: Some(meta.remote),
                degraded: false,
            },
        })
    }

    /// What it weighs in the in-process tier, in bytes.
    pub(crate) fn weight(&self) -> u32 {
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        u32::try_from(self.body.len() + headers + 256).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(versions: Versions) -> Entry {
        Entry {
            endpoint: "e",
            status: StatusCode::OK,
            headers: vec![(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body: Bytes::from_static(b"{\"data\":1}"),
            stored_at: 1_000_000,
            fresh_ms: 10_000,
            stale_ms: 60_000,
            compute_ms: 5,
            versions,
        }
    }

    fn remote(epoch: &str, versions: &[u64]) -> Versions {
        Versions {
            local: vec![0],
            remote: Some(Remote {
                epoch: epoch.to_owned(),
                versions: versions.to_vec(),
            }),
            degraded: false,
        }
    }

    #[test]
    fn an_entry_round_trips_through_its_redis_form() {
        let stored = entry(remote("a", &[3]));
        let bytes = stored.encode().unwrap_or_else(|| panic!("encodes"));
        let back =
            Entry::decode("e", bytes, &[0], (10_000, 60_000)).unwrap_or_else(|| panic!("decodes"));
        assert_eq!(back.body, stored.body);
        assert_eq!(back.headers, stored.headers);
        assert_eq!(back.versions, stored.versions);
        assert_eq!(back.stored_at, stored.stored_at);
        let limits = (10_000, 60_000);
        assert!(Entry::decode("e", b"\x01\x00\x00\x00\xffjunk".to_vec(), &[0], limits).is_none());
        assert!(Entry::decode("e", b"\x02".to_vec(), &[0], limits).is_none());
        assert!(Entry::decode("e", Vec::new(), &[0], limits).is_none());
        // Lifetimes longer than the endpoint's, another status, another header: refused.
        let bytes = stored.encode().unwrap_or_else(|| panic!("encodes"));
        assert!(Entry::decode("e", bytes, &[0], (5_000, 60_000)).is_none());
        let mut other = stored.clone();
        other.status = StatusCode::CREATED;
        assert!(
            Entry::decode(
                "e",
                other.encode().unwrap_or_else(|| panic!("encodes")),
                &[0],
                limits
            )
            .is_none()
        );
        let mut cookie = stored.clone();
        cookie.headers.push((
            axum::http::header::SET_COOKIE,
            HeaderValue::from_static("a=b"),
        ));
        assert!(
            Entry::decode(
                "e",
                cookie.encode().unwrap_or_else(|| panic!("encodes")),
                &[0],
                limits
            )
            .is_none()
        );
    }

    #[test]
    fn a_bumped_tag_or_a_new_epoch_makes_an_entry_stale() {
        let stored = entry(remote("a", &[3]));
        let now = stored.stored_at + 1;
        assert_eq!(stored.standing(&remote("a", &[3]), now), Standing::Fresh);
        assert_eq!(stored.standing(&remote("a", &[4]), now), Standing::Stale);
        assert_eq!(stored.standing(&remote("b", &[3]), now), Standing::Stale);
        assert_eq!(
            stored.standing(&remote("a", &[3]), stored.stored_at + 10_000),
            Standing::Stale
        );
        assert_eq!(
            stored.standing(&remote("a", &[3]), stored.stored_at + 70_000),
            Standing::Gone
        );
    }

    #[test]
    fn without_redis_an_entry_answers_for_a_few_seconds_on_local_counts() {
        let stored = entry(remote("a", &[3]));
        let down = Versions {
            local: vec![0],
            remote: None,
            degraded: true,
        };
        assert_eq!(
            stored.standing(&down, stored.stored_at + 4_000),
            Standing::Fresh
        );
        assert_eq!(
            stored.standing(&down, stored.stored_at + 6_000),
            Standing::Stale
        );
        let bumped_here = Versions {
            local: vec![1],
            ..down
        };
        assert_eq!(
            stored.standing(&bumped_here, stored.stored_at + 1_000),
            Standing::Stale
        );
    }

    #[test]
    fn early_refresh_is_never_drawn_far_from_expiry() {
        let stored = entry(remote("a", &[3]));
        assert!(!stored.refresh_early(stored.stored_at));
        // At the very end, the draw is almost certain.
        let hits = (0..100)
            .filter(|_| stored.refresh_early(stored.stored_at + 9_999))
            .count();
        assert!(hits > 50, "{hits} of 100");
    }
}
