//! Graceful shutdown over a real socket: readiness turns 503 at once, an in-flight request
//! completes, then the server returns.

use std::time::Duration;

use rampart::prelude::*;
use rampart::testing::TestApp;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Serialize, Schema)]
struct Finished {
    finished: bool,
}

/// Takes a while.
#[endpoint(get = "/shutdown/work", public)]
async fn work() -> ApiResult<Finished> {
    tokio::time::sleep(Duration::from_millis(600)).await;
    Ok(Finished { finished: true })
}

async fn http_get(address: std::net::SocketAddr, path: &str) -> Option<u16> {
    let mut stream = tokio::net::TcpStream::connect(address).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    let text = String::from_utf8_lossy(&response);
    text.split(' ').nth(1)?.parse().ok()
}

#[tokio::test]
async fn shutdown_drains_readiness_first_and_finishes_in_flight_requests() {
    let app = TestApp::builder(Api::new().mount(work))
        .configure(|config| config.shutdown_drain = Duration::from_millis(400))
        .build()
        .await;
    let Ok(app) = app else {
        panic!("app did not build")
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let (trigger, signal) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(rampart::server::serve_with_shutdown(
        listener,
        app.router(),
        app.app().clone(),
        async move {
            let _ = signal.await;
        },
    ));

    assert_eq!(http_get(address, "/health/ready").await, Some(200));
    let in_flight = tokio::spawn(async move { http_get(address, "/api/v1/shutdown/work").await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let _ = trigger.send(());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        http_get(address, "/health/ready").await,
        Some(503),
        "readiness must fail at once"
    );
    assert_eq!(
        in_flight.await.ok().flatten(),
        Some(200),
        "the in-flight request completes"
    );
    let stopped = tokio::time::timeout(Duration::from_secs(5), server).await;
    assert!(
        matches!(stopped, Ok(Ok(Ok(())))),
        "the server returns after draining"
    );
    assert_eq!(
        http_get(address, "/health/live").await,
        None,
        "the listener is closed"
    );
}
