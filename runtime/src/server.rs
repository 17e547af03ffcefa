//! Serving with graceful shutdown: on SIGTERM or Ctrl-C readiness turns 503 at once, the
//! listener stays open for the drain period so load balancers notice, then in-flight requests
//! finish and the function returns.

mod connection;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc, watch};

use std::net::SocketAddr;

use crate::health::{Draining, HealthState};
use crate::jobs::{JobServices, Worker, WorkerSettings};

/// What the server allows a TCP connection (`RAMPART_HEADER_READ_TIMEOUT`,
/// `RAMPART_KEEP_ALIVE_TIMEOUT`, `RAMPART_MAX_CONNECTIONS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// A complete request head must arrive this soon after its first byte (or after the
    /// connection opened); past it the connection is closed without a response.
    pub header_read_timeout: Duration,
    /// A connection with no request in flight and no bytes arriving is closed after this.
    pub keep_alive_timeout: Duration,
    /// Open connections; one more is accepted and closed at once.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(75),
            max_connections: 10_000,
        }
    }
}

/// What serving needs of the app: where to listen, the connection limits, how long to drain,
/// and the flag that turns readiness to 503. `App` converts into it, so `serve(router, app)`
/// reads as before while the server knows nothing else of the app. The fields are private and
/// the draining flag is taken from the app's [`HealthState`]: an options value readiness does
/// not see cannot be built.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Listen address (`BIND`).
    bind: SocketAddr,
    /// Connection limits.
    connections: ConnectionLimits,
    /// How long readiness reports 503 before the listener closes.
    shutdown_drain: Duration,
    /// Set when shutdown begins; the flag `health` reads.
    draining: Draining,
    /// The app's jobs: the server relays their outbox, and runs them when the queue is the
    /// in-process one (development and tests).
    jobs: Option<(JobServices, WorkerSettings)>,
}

impl ServeOptions {
    /// Options whose shutdown turns the readiness of `health` to 503.
    pub(crate) fn new(
        bind: SocketAddr,
        connections: ConnectionLimits,
        shutdown_drain: Duration,
        health: &HealthState,
    ) -> Self {
        Self {
            bind,
            connections,
            shutdown_drain,
            draining: health.draining().clone(),
            jobs: None,
        }
    }

    /// The same options, also relaying (and, in process, running) the app's jobs.
    pub(crate) fn with_jobs(mut self, services: JobServices, settings: WorkerSettings) -> Self {
        self.jobs = Some((services, settings));
        self
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Serves `router` on `listener` until `signal` resolves, then drains and returns.
///
/// Connections are HTTP/1.1 only (h2c is off: HTTP/2 belongs between clients and the TLS
/// terminating proxy), each under the limits of [`ConnectionLimits`]: a request head must be
/// complete within `header_read_timeout` of its first byte (or of the connection opening), a
/// connection with nothing in flight and nothing arriving closes after `keep_alive_timeout`,
/// and past `max_connections` a new connection is accepted and closed at once (a refusal the
/// client sees, rather than a kernel backlog that hides the overload). A connection closed by
/// one of these limits has no request to answer: it is a log line and
/// `http_connections_closed_total{reason}`.
///
/// On `signal`, readiness turns 503 and the listener keeps accepting for the drain period;
/// then it closes, idle connections close, and the function returns once every request in
/// flight has been answered.
pub async fn serve_with_shutdown(
    listener: TcpListener,
    router: Router,
    options: impl Into<ServeOptions>,
    signal: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let options = options.into();
    let drain = options.shutdown_drain;
    let limits = options.connections;
    let upkeep = tokio::spawn(async {
        let mut ticker = tokio::time::interval(Duration::from_secs(5));
        loop {
            ticker.tick().await;
            if let Some(handle) = crate::observability::install_prometheus() {
                handle.run_upkeep();
            }
        }
    });
    // Jobs stop with the server, after the last request, so that a request's enqueue always
    // has a relay (and, in process, a worker) behind it.
    let (stop_jobs, jobs_stopped) = watch::channel(false);
    let jobs = options.jobs.clone().map(|(services, settings)| {
        let mut stopped = jobs_stopped.clone();
        if services.jobs().is_in_process() {
            // The worker relays the outbox too.
            tokio::spawn(async move {
                Worker::new(services, settings)
                    .run(async move {
                        let _ = stopped.wait_for(|stop| *stop).await;
                    })
                    .await;
            })
        } else {
            tokio::spawn(services.relay(stopped))
        }
    });
    let draining = options.draining.clone();
    let shutdown = async move {
        signal.await;
        draining.begin();
        tracing::info!(
            drain_ms = drain.as_millis() as u64,
            "shutdown started: readiness is now 503"
        );
        tokio::time::sleep(drain).await;
    };
    tokio::pin!(shutdown);
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop, stopping) = watch::channel(false);
    let (open, mut all_closed) = mpsc::channel::<()>(1);
    let mut refusals = Refusals::default();
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, remote) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        accept_error(error).await;
                        continue;
                    }
                };
                let Ok(permit) = permits.clone().try_acquire_owned() else {
                    refusals.refused(limits.max_connections);
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                tokio::spawn(connection::serve(
                    stream,
                    remote,
                    router.clone(),
                    limits,
                    stopping.clone(),
                    (open.clone(), permit),
                ));
            }
        }
    }
    drop(listener);
    stop.send_replace(true);
    drop(open);
    // Every connection task holds a sender; `None` once the last one has finished.
    let _ = all_closed.recv().await;
    stop_jobs.send_replace(true);
    if let Some(jobs) = jobs {
        let _ = jobs.await;
    }
    upkeep.abort();
    tracing::info!("server stopped");
    Ok(())
}

/// Logs refused connections at most once a second, with how many there were.
#[derive(Default)]
struct Refusals {
    last_log: Option<Instant>,
    since_log: u64,
}

impl Refusals {
    fn refused(&mut self, max_connections: usize) {
        metrics::counter!("http_connections_closed_total", "reason" => "connection_limit")
            .increment(1);
        self.since_log += 1;
        let now = Instant::now();
        if self
            .last_log
            .is_none_or(|last| now.duration_since(last) >= Duration::from_secs(1))
        {
            tracing::warn!(
                max_connections,
                refused = self.since_log,
                "connections refused: RAMPART_MAX_CONNECTIONS reached"
            );
            self.last_log = Some(now);
            self.since_log = 0;
        }
    }
}

/// What axum's `serve` does: a failed accept of one connection is skipped; anything else
/// (out of file descriptors) is logged and retried after a pause instead of spinning.
async fn accept_error(error: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %error, "accept failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Binds the configured address and serves until SIGTERM or Ctrl-C.
pub async fn serve(router: Router, options: impl Into<ServeOptions>) -> std::io::Result<()> {
    let options = options.into();
    let listener = TcpListener::bind(options.bind).await?;
    tracing::info!(bind = %options.bind, "listening");
    serve_with_shutdown(listener, router, options, shutdown_signal()).await
}
