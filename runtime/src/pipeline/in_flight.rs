//! The per-principal in-flight cap, right after authentication: one user (or, on a public
//! endpoint without credentials, one client IP) may have at most `max` requests in flight
//! across the whole API. One more is a 429 with `Retry-After`: it is this client's doing, and
//! the others keep their share of the global in-flight limit (load shedding, 503).
//!
//! The table holds only principals with a request in flight: an entry is removed when its
//! count drops to zero, so its size is bounded by the number of requests in flight.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::{ApiError, ErrorCode};

/// Who a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Who {
    User(Uuid),
    Ip(IpAddr),
}

struct Table {
    max: usize,
    /// foldhash, seeded per process: a user id or an IP per request, SipHash was measurable.
    counts: Mutex<HashMap<Who, usize, foldhash::fast::RandomState>>,
}

impl Table {
    fn enter(self: &Arc<Self>, who: Who) -> Option<Ticket> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(who).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Ticket {
            table: self.clone(),
            who,
        })
    }
}

/// One admitted request; leaving (response, error, or the future dropped) releases it.
pub(super) struct Ticket {
    table: Arc<Table>,
    who: Who,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut counts = self
            .table
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.who) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.who);
            }
        }
    }
}

/// The in-flight table every endpoint of a router shares.
#[derive(Clone)]
pub struct InFlight {
    table: Arc<Table>,
}

impl std::fmt::Debug for InFlight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InFlight")
            .field("max", &self.table.max)
            .finish_non_exhaustive()
    }
}

impl InFlight {
    /// At most `max` (at least 1) requests in flight per principal or anonymous client IP.
    pub fn new(max: usize) -> Self {
        Self {
            table: Arc::new(Table {
                max: max.max(1),
                counts: Mutex::new(HashMap::default()),
            }),
        }
    }

    /// How many principals have a request in flight (for tests of the table's bound).
    pub fn tracked(&self) -> usize {
        self.table
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Admits one request of `principal` (or, without one, of the client `ip`): `Ok(None)`
    /// when there is no one to count against (in-process calls without a peer address),
    /// `Err` when this client already has its share in flight.
    pub(super) fn admit(
        &self,
        principal: Option<&Principal>,
        ip: Option<IpAddr>,
    ) -> Result<Option<Ticket>, Refused> {
        // Per user, even when an API key authenticates (unlike the rate limit, which counts
        // per key): an account must not multiply its share of the server by minting keys.
        let who = match principal {
            Some(principal) => Some(Who::User(principal.user_id())),
            None => ip.map(Who::Ip),
        };
        match who {
            Some(who) => match self.table.enter(who) {
                Some(ticket) => Ok(Some(ticket)),
                None => Err(Refused),
            },
            None => Ok(None),
        }
    }
}

/// This client already has its share in flight.
pub(super) struct Refused;

impl Refused {
    /// The 429 with `Retry-After`.
    pub(super) fn response(self) -> Response {
        refused()
    }
}

fn refused() -> Response {
    metrics::counter!("http_in_flight_refused_total").increment(1);
    ApiError::new(ErrorCode::RateLimited)
        .with_message("too many requests in flight for this client; wait for one to finish")
        .with_header(header::RETRY_AFTER, HeaderValue::from(1u32))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds_only_principals_with_a_request_in_flight() {
        let layer = InFlight::new(2);
        let alice = Who::User(Uuid::now_v7());
        let bob = Who::Ip(IpAddr::from([10, 0, 0, 7]));
        let first = layer.table.enter(alice);
        let second = layer.table.enter(alice);
        assert!(first.is_some() && second.is_some());
        assert!(layer.table.enter(alice).is_none(), "a third is refused");
        let other = layer.table.enter(bob);
        assert!(other.is_some(), "another principal has its own count");
        assert_eq!(layer.tracked(), 2);
        drop(first);
        assert!(
            layer.table.enter(alice).is_some(),
            "a freed place is taken again"
        );
        drop((second, other));
        assert_eq!(
            layer.tracked(),
            0,
            "entries go when their count drops to zero"
        );
    }
}
