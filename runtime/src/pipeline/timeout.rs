//! Deadline arithmetic of the per-endpoint timeout (past it the handler is dropped and the
//! client gets a 503; the body deadline ends no later, so a body still awaited then is the
//! client's 408) and of the server's connection timeouts.

use std::time::Duration;

/// `start + duration`, or a time that never comes when that overflows (a configured
/// `Duration::MAX` must not panic).
pub fn after(start: tokio::time::Instant, duration: Duration) -> tokio::time::Instant {
    start
        .checked_add(duration)
        .or_else(|| start.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(start)
}
