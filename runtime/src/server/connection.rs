//! One HTTP/1.1 connection under its limits: the header read deadline and the idle keep-alive
//! timeout, watched by the task that drives the connection.
//!
//! The connection is in one of three states, tracked from its reads and its requests:
//! - a request in flight: no connection deadline (the endpoint's timeout and body deadline
//!   apply);
//! - a head being received (since the connection opened, or since the first byte after the
//!   last response): it must be complete within `header_read_timeout`, else the connection is
//!   dropped;
//! - idle: nothing in flight and nothing arriving; after `keep_alive_timeout` hyper is asked to
//!   close it gracefully;
//! - closing (idle expired, or the server stopping) with nothing in flight: if hyper has not
//!   finished within `header_read_timeout` (a client that does not read its response), the
//!   connection is dropped, so it cannot hold its permit, or the shutdown, forever.
//!
//! hyper's own header read timeout (with a Tokio timer) is set to the sum of the two as a
//! backstop: hyper starts it as soon as it waits for a head, idle time included.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Notify, OwnedSemaphorePermit, mpsc, watch};
use tokio::time::Instant;
use tower::ServiceExt;

use super::ConnectionLimits;
use crate::http::after;

struct State {
    in_flight: usize,
    idle_since: Instant,
    head_started: Option<Instant>,
}

/// What the connection's reads and requests tell the watching task.
struct Activity {
    state: Mutex<State>,
    changed: Notify,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expiry {
    Head,
    Idle,
    /// Closing with nothing in flight, but the last response not taken by the client (a zero
    /// window): hyper would wait for it forever, holding the connection's permit.
    Linger,
}

impl Activity {
    fn new() -> Self {
        let now = Instant::now();
        Self {
            // A new connection owes its first head at once.
            state: Mutex::new(State {
                in_flight: 0,
                idle_since: now,
                head_started: Some(now),
            }),
            changed: Notify::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bytes arrived: between requests, they start a head.
    fn read(&self) {
        let mut state = self.state();
        if state.in_flight == 0 && state.head_started.is_none() {
            state.head_started = Some(Instant::now());
            drop(state);
            self.changed.notify_one();
        }
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        let mut state = self.state();
        state.in_flight += 1;
        state.head_started = None;
        drop(state);
        self.changed.notify_one();
        InFlight {
            activity: self.clone(),
        }
    }

    /// The next deadline and what expires then; none while a request is in flight.
    fn deadline(
        &self,
        limits: ConnectionLimits,
        closing: Option<Instant>,
    ) -> Option<(Instant, Expiry)> {
        let state = self.state();
        if state.in_flight > 0 {
            return None;
        }
        match (state.head_started, closing) {
            (Some(started), _) => Some((after(started, limits.header_read_timeout), Expiry::Head)),
            // Asked to close: a response still being written gets as long as a head would.
            (None, Some(since)) => Some((
                after(since.max(state.idle_since), limits.header_read_timeout),
                Expiry::Linger,
            )),
            (None, None) => Some((
                after(state.idle_since, limits.keep_alive_timeout),
                Expiry::Idle,
            )),
        }
    }
}

/// One request in the service; its end makes the connection idle again.
struct InFlight {
    activity: Arc<Activity>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.activity.state();
        state.in_flight = state.in_flight.saturating_sub(1);
        if state.in_flight == 0 {
            state.idle_since = Instant::now();
        }
        drop(state);
        self.activity.changed.notify_one();
    }
}

/// The socket, reporting its reads.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// The router as a hyper service, with the peer address where `ConnectInfo` expects it.
#[derive(Clone)]
struct ConnectionService {
    router: Router,
    remote: SocketAddr,
    activity: Arc<Activity>,
}

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(self.remote));
        let in_flight = self.activity.begin();
        let router = self.router.clone();
        Box::pin(async move {
            let response = router.oneshot(request).await;
            drop(in_flight);
            response
        })
    }
}

fn closed(reason: &'static str) {
    metrics::counter!("http_connections_closed_total", "reason" => reason).increment(1);
}

/// Serves one connection until it closes, is closed by a limit, or the server stops.
pub(super) async fn serve(
    stream: TcpStream,
    remote: SocketAddr,
    router: Router,
    limits: ConnectionLimits,
    mut stopping: watch::Receiver<bool>,
    // Held until the connection ends: the server waits for every sender, and the permit is
    // the connection's place under `max_connections`.
    _held: (mpsc::Sender<()>, OwnedSemaphorePermit),
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        stream,
        activity: activity.clone(),
    });
    let service = ConnectionService {
        router,
        remote,
        activity: activity.clone(),
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(
            // hyper adds it to `Instant::now()`: keep it far from overflowing.
            limits
                .header_read_timeout
                .saturating_add(limits.keep_alive_timeout)
                .min(Duration::from_secs(30 * 86_400)),
        )
        .keep_alive(true);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let mut closing = stopping.borrow().then(Instant::now);
    if closing.is_some() {
        connection.as_mut().graceful_shutdown();
    }
    loop {
        let deadline = activity.deadline(limits, closing);
        let sleep_until = deadline.map_or_else(Instant::now, |(at, _)| at);
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    if error.is_timeout() {
                        closed("header_timeout");
                        tracing::info!(peer = %remote, "connection closed: request head not received in time");
                    } else {
                        tracing::debug!(peer = %remote, error = %error, "connection ended with an error");
                    }
                }
                return;
            }
            changed = stopping.changed(), if closing.is_none() => {
                if changed.is_err() || *stopping.borrow() {
                    connection.as_mut().graceful_shutdown();
                    closing = Some(Instant::now());
                }
            }
            () = activity.changed.notified() => {}
            () = tokio::time::sleep_until(sleep_until), if deadline.is_some() => {
                // The state may have moved on since the deadline was taken: look again.
                match activity.deadline(limits, closing) {
                    Some((at, Expiry::Head)) if at <= Instant::now() => {
                        closed("header_timeout");
                        tracing::info!(
                            peer = %remote,
                            header_read_timeout_ms = limits.header_read_timeout.as_millis() as u64,
                            "connection closed: request head not received in time"
                        );
                        return;
                    }
                    Some((at, Expiry::Idle)) if at <= Instant::now() => {
                        closed("idle");
                        tracing::debug!(peer = %remote, "idle keep-alive connection closed");
                        connection.as_mut().graceful_shutdown();
                        closing = Some(Instant::now());
                    }
                    Some((at, Expiry::Linger)) if at <= Instant::now() => {
                        closed("linger");
                        tracing::info!(
                            peer = %remote,
                            "connection dropped: the client did not take its response"
                        );
                        return;
                    }
                    _ => {}
                }
            }
        }
    }
}
