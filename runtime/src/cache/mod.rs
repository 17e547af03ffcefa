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
