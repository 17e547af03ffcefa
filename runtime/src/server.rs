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

use crate::app::App;
pub use crate::config::ConnectionLimits;

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
    app: App,
    signal: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let drain = app.config().shutdown_drain;
    let limits = app.config().connections;
    let upkeep = tokio::spawn(async {
        let mut ticker = tokio::time::interval(Duration::from_secs(5));
        loop {
            ticker.tick().await;
            if let Some(handle) = crate::observability::install_prometheus() {
                handle.run_upkeep();
            }
        }
    });
    let app_for_signal = app.clone();
    let shutdown = async move {
        signal.await;
        app_for_signal.begin_shutdown();
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
pub async fn serve(router: Router, app: App) -> std::io::Result<()> {
    let listener = TcpListener::bind(app.config().bind).await?;
    tracing::info!(bind = %app.config().bind, "listening");
    serve_with_shutdown(listener, router, app, shutdown_signal()).await
}
