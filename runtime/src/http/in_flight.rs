//! The per-principal in-flight cap, right after authentication: one user (or, on a public
//! endpoint without credentials, one client IP) may have at most `max` requests in flight
//! across the whole API. One more is a 429 with `Retry-After`: it is this client's doing, and
//! the others keep their share of the global in-flight limit (load shedding, 503).
//!
//! The table holds only principals with a request in flight: an entry is removed when its
//! count drops to zero, so its size is bounded by the number of requests in flight.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{HeaderValue, Request, header};
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;
use tower::{Layer, Service};
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::{ApiError, ErrorCode};
use crate::rate_limit::client_ip;

/// Who a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Who {
    User(Uuid),
    Ip(IpAddr),
}

struct Table {
    max: usize,
    counts: Mutex<HashMap<Who, usize>>,
    trusted_proxies: Arc<[IpNet]>,
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
struct Ticket {
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

/// Per endpoint, after authentication, before the rate limit; every endpoint shares one table.
#[derive(Clone)]
pub struct InFlightLayer {
    table: Arc<Table>,
}

impl std::fmt::Debug for InFlightLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InFlightLayer")
            .field("max", &self.table.max)
            .finish_non_exhaustive()
    }
}

impl InFlightLayer {
    /// At most `max` (at least 1) requests in flight per principal or anonymous client IP.
    pub fn new(max: usize, trusted_proxies: Arc<[IpNet]>) -> Self {
        Self {
            table: Arc::new(Table {
                max: max.max(1),
                counts: Mutex::new(HashMap::new()),
                trusted_proxies,
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
}

impl<S> Layer<S> for InFlightLayer {
    type Service = InFlightService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        InFlightService {
            inner,
            table: self.table.clone(),
        }
    }
}

/// The service of [`InFlightLayer`].
#[derive(Clone)]
pub struct InFlightService<S> {
    inner: S,
    table: Arc<Table>,
}

fn refused() -> Response {
    metrics::counter!("http_in_flight_refused_total").increment(1);
    ApiError::new(ErrorCode::RateLimited)
        .with_message("too many requests in flight for this client; wait for one to finish")
        .with_header(header::RETRY_AFTER, HeaderValue::from(1u32))
        .into_response()
}

impl<S> Service<Request<Body>> for InFlightService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // Per user, even when an API key authenticates (unlike the rate limit, which counts per
        // key): an account must not multiply its share of the server by minting keys.
        let who = match request.extensions().get::<Principal>() {
            Some(principal) => Some(Who::User(principal.user_id())),
            None => client_ip(&request, &self.table.trusted_proxies).map(Who::Ip),
        };
        // In-process calls without a peer address have no one to count against.
        let ticket = match who {
            Some(who) => match self.table.enter(who) {
                Some(ticket) => Some(ticket),
                None => return Box::pin(async { Ok(refused()) }),
            },
            None => None,
        };
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await;
            drop(ticket);
            response
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds_only_principals_with_a_request_in_flight() {
        let layer = InFlightLayer::new(2, Arc::new([]));
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
