//! The taskboard's clock, a typed dependency: handlers take `Dep<Clock>`, `main` registers the
//! system clock, and tests that assert timestamps register a fixed one in its place.

use chrono::{DateTime, Utc};

/// Where "now" comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    fixed: Option<DateTime<Utc>>,
}

impl Clock {
    /// The system clock.
    pub(crate) fn system() -> Self {
        Self { fixed: None }
    }

    /// A clock stopped at `at` (give microseconds at most: what both databases store).
    #[allow(
        dead_code,
        reason = "the tests' clock; the binary runs on the system one"
    )]
    pub(crate) fn fixed(at: DateTime<Utc>) -> Self {
        Self { fixed: Some(at) }
    }

    /// Now, to the microsecond (what both databases store, so a later read returns the same
    /// value).
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.fixed.unwrap_or_else(rampart::resource::now)
    }
}
