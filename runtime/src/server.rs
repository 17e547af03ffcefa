//! Serving with graceful shutdown: on SIGTERM or Ctrl-C readiness turns 503 at once, the
//! listener stays open for the drain period so load balancers notice, then in-flight requests
//! finish and the function returns.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;

use crate::app::App;

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
pub async fn serve_with_shutdown(
    listener: TcpListener,
    router: Router,
    app: App,
    signal: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let drain = app.config().shutdown_drain;
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
    let result = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    upkeep.abort();
    tracing::info!("server stopped");
    result
}

/// Binds the configured address and serves until SIGTERM or Ctrl-C.
pub async fn serve(router: Router, app: App) -> std::io::Result<()> {
    let listener = TcpListener::bind(app.config().bind).await?;
    tracing::info!(bind = %app.config().bind, "listening");
    serve_with_shutdown(listener, router, app, shutdown_signal()).await
}
