//! Slow and greedy clients (issue 9, items 5 to 8), over real TCP where the server is involved:
//! body deadline and limit, the per-principal in-flight cap, health outside shedding, the
//! connection limits, `Host` validation, and one account holding 1,500 slow requests while
//! another keeps being served.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use rampart::__private::axum;
use rampart::prelude::*;
use rampart::testing::{TestApp, TestBackend};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tower::ServiceExt;

#[derive(Debug, Deserialize, Serialize, validator::Validate, Schema)]
struct Echo {
    text: String,
}

#[derive(Debug, Serialize, Schema)]
struct Count {
    bytes: usize,
}

/// Echoes a small JSON body.
#[endpoint(post = "/slow/echo", public, body_limit = "1KiB")]
async fn echo(Json(input): Json<Echo>) -> ApiResult<Echo> {
    Ok(input)
}

/// Counts a raw body (axum's own extractor, not rampart's `Json`).
#[endpoint(post = "/slow/raw", public, body_limit = "1KiB")]
async fn raw(body: axum::body::Bytes) -> ApiResult<Count> {
    Ok(Count { bytes: body.len() })
}

/// Takes large, slow uploads: its own body deadline.
#[endpoint(
    post = "/slow/upload",
    public,
    body_limit = "1KiB",
    body_timeout = "30s"
)]
async fn upload(Json(input): Json<Echo>) -> ApiResult<Echo> {
    Ok(input)
}

/// A short timeout, and the default (longer) body deadline.
#[endpoint(post = "/slow/short", public, timeout = "300ms")]
async fn short(Json(input): Json<Echo>) -> ApiResult<Echo> {
    Ok(input)
}

/// A gate per test (tests run in parallel): `entered` counts handlers that started, and each
/// handler leaves once `release` has a permit for it.
struct Gate {
    entered: Semaphore,
    release: Semaphore,
}

impl Default for Gate {
    fn default() -> Self {
        Self {
            entered: Semaphore::new(0),
            release: Semaphore::new(0),
        }
    }
}

static GATES: LazyLock<Mutex<HashMap<String, Arc<Gate>>>> = LazyLock::new(Default::default);

fn gate(name: &str) -> Arc<Gate> {
    let mut gates = GATES.lock().unwrap_or_else(PoisonError::into_inner);
    gates.entry(name.to_owned()).or_default().clone()
}

#[derive(Debug, Deserialize, validator::Validate, Schema)]
struct GateName {
    gate: String,
}

async fn pass(name: &str) -> ApiResult<Count> {
    let gate = gate(name);
    gate.entered.add_permits(1);
    if let Ok(permit) = gate.release.acquire().await {
        permit.forget();
    }
    Ok(Count { bytes: 0 })
}

/// Stays in flight until its gate releases it.
#[endpoint(get = "/slow/held")]
async fn held(Query(name): Query<GateName>) -> ApiResult<Count> {
    pass(&name.gate).await
}

/// The same, anonymous.
#[endpoint(get = "/slow/held_public", public)]
async fn held_public(Query(name): Query<GateName>) -> ApiResult<Count> {
    pass(&name.gate).await
}

/// A plain axum route added with `Api::merge`.
async fn merged(body: axum::body::Bytes) -> String {
    body.len().to_string()
}

async fn app(change: impl FnOnce(&mut rampart::config::Config) + Send + 'static) -> TestApp {
    let api = Api::new()
        .merge_public(axum::Router::new().route("/merged/raw", axum::routing::post(merged)))
        .mount(echo)
        .mount(raw)
        .mount(upload)
        .mount(short)
        .mount(held)
        .mount(held_public);
    match TestApp::builder(api).configure(change).build().await {
        Ok(app) => app,
        Err(error) => panic!("{error}"),
    }
}

/// A served app: its address, and the trigger that stops it.
struct Served {
    address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    async fn start(app: &TestApp) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let (stop, signal) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(rampart::server::serve_with_shutdown(
            listener,
            app.router(),
            app.app().clone(),
            async move {
                let _ = signal.await;
            },
        ));
        Self {
            address,
            stop: Some(stop),
            server,
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let stopped = tokio::time::timeout(Duration::from_secs(30), &mut self.server).await;
        assert!(matches!(stopped, Ok(Ok(Ok(())))), "the server stops");
    }
}

/// Reads until the server closes (bounded, so a server that never closes fails the test).
async fn read_all(stream: &mut TcpStream) -> Vec<u8> {
    let mut response = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut response));
    match read.await {
        Ok(_) => response,
        Err(_) => panic!(
            "the server kept the connection open; got so far: {}",
            String::from_utf8_lossy(&response)
        ),
    }
}

/// Reads one response with a `Content-Length` and leaves the connection open.
async fn read_response(stream: &mut TcpStream) -> Vec<u8> {
    let mut response = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        if let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") {
            let length: usize = header(&response, "content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or_default();
            if response.len() >= end + 4 + length {
                return response;
            }
        }
        let read = tokio::time::timeout(Duration::from_secs(60), stream.read(&mut buffer)).await;
        match read {
            Ok(Ok(0)) | Ok(Err(_)) => return response,
            Ok(Ok(n)) => response.extend_from_slice(&buffer[..n]),
            Err(_) => panic!("no response"),
        }
    }
}

async fn connect(address: SocketAddr) -> TcpStream {
    TcpStream::connect(address)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Sends `request` on a new connection and reads until the server closes it.
async fn exchange(address: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut stream = connect(address).await;
    stream
        .write_all(request)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    read_all(&mut stream).await
}

fn status(response: &[u8]) -> Option<u16> {
    String::from_utf8_lossy(response)
        .split(' ')
        .nth(1)?
        .parse()
        .ok()
}

fn header(response: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(response);
    let head = text.split("\r\n\r\n").next()?.to_owned();
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}

fn code(response: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(response);
    let body = text.split("\r\n\r\n").nth(1)?;
    let json: serde_json::Value = serde_json::from_str(body).ok()?;
    json["error"]["code"].as_str().map(str::to_owned)
}

fn post_head(path: &str, length: usize, extra: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n{extra}\r\n"
    )
}

// Item 6 ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_declared_length_over_the_limit_is_413_at_once_without_the_body() {
    let app = app(|_| {}).await;
    let served = Served::start(&app).await;
    for path in ["/api/v1/slow/echo", "/api/v1/slow/raw", "/merged/raw"] {
        // Only the head: the client never sends the 10 MB it announces.
        let response = exchange(served.address, post_head(path, 10_000_000, "").as_bytes()).await;
        assert_eq!(
            status(&response),
            Some(413),
            "{path}: {}",
            String::from_utf8_lossy(&response)
        );
        assert_eq!(code(&response).as_deref(), Some("PAYLOAD_TOO_LARGE"));
        assert_eq!(header(&response, "connection").as_deref(), Some("close"));
    }
    served.stop().await;
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_413_wherever_it_is_read() {
    let app = app(|_| {}).await;
    let served = Served::start(&app).await;
    let chunk = format!("{:x}\r\n{}\r\n", 512, "x".repeat(512));
    for path in ["/api/v1/slow/echo", "/api/v1/slow/raw"] {
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        for _ in 0..4 {
            request.push_str(&chunk);
        }
        request.push_str("0\r\n\r\n");
        let response = exchange(served.address, request.as_bytes()).await;
        assert_eq!(
            status(&response),
            Some(413),
            "{path}: {}",
            String::from_utf8_lossy(&response)
        );
        assert_eq!(code(&response).as_deref(), Some("PAYLOAD_TOO_LARGE"));
    }
    // Under the limit, chunked, both extractors still work.
    let small = "POST /api/v1/slow/raw HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    let response = exchange(served.address, small.as_bytes()).await;
    assert_eq!(status(&response), Some(200));
    served.stop().await;
}

// Item 5a --------------------------------------------------------------------------------------

#[tokio::test]
async fn a_stalled_body_is_408_and_the_connection_closes() {
    let app = app(|config| config.body_read_timeout = Duration::from_millis(300)).await;
    let served = Served::start(&app).await;
    let token = app.token(&["member"]);
    let bearer = format!("Authorization: Bearer {token}\r\n");
    for path in ["/api/v1/slow/echo", "/api/v1/slow/raw", "/merged/raw"] {
        // Headers and one byte of a 20-byte body, then nothing.
        let mut request = post_head(path, 20, &bearer);
        request.push('{');
        let response = exchange(served.address, request.as_bytes()).await;
        assert_eq!(
            status(&response),
            Some(408),
            "{path}: {}",
            String::from_utf8_lossy(&response)
        );
        assert_eq!(code(&response).as_deref(), Some("REQUEST_TIMEOUT"));
        assert_eq!(header(&response, "connection").as_deref(), Some("close"));
    }
    served.stop().await;
}

#[tokio::test]
async fn a_body_still_awaited_when_the_timeout_expires_is_408_not_503() {
    let app = app(|config| config.body_read_timeout = Duration::from_secs(60)).await;
    let served = Served::start(&app).await;
    let mut request = post_head("/api/v1/slow/short", 20, "");
    request.push('{');
    let response = exchange(served.address, request.as_bytes()).await;
    assert_eq!(
        status(&response),
        Some(408),
        "{}",
        String::from_utf8_lossy(&response)
    );
    served.stop().await;
}

#[tokio::test]
async fn the_body_deadline_is_total_a_trickle_does_not_extend_it() {
    let app = app(|config| config.body_read_timeout = Duration::from_millis(500)).await;
    let served = Served::start(&app).await;
    let body = r#"{"text":"a trickle of bytes"}"#;
    let mut stream = connect(served.address).await;
    let head = post_head("/api/v1/slow/echo", body.len(), "");
    stream
        .write_all(head.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // One byte every 100 ms: a per-read timeout of 500 ms would never trip; 30 bytes take 3 s.
    for byte in body.bytes() {
        if stream.write_all(&[byte]).await.is_err() {
            break; // the server answered and closed
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let response = read_all(&mut stream).await;
    assert_eq!(
        status(&response),
        Some(408),
        "{}",
        String::from_utf8_lossy(&response)
    );
    served.stop().await;
}

#[tokio::test]
async fn an_endpoint_can_give_its_body_longer() {
    let app = app(|config| config.body_read_timeout = Duration::from_millis(300)).await;
    let served = Served::start(&app).await;
    let body = r#"{"text":"slow upload"}"#;
    let (first, second) = body.split_at(5);
    let mut outcomes = Vec::new();
    for path in ["/api/v1/slow/echo", "/api/v1/slow/upload"] {
        let mut stream = connect(served.address).await;
        let head = post_head(path, body.len(), "Connection: close\r\n");
        let _ = stream.write_all(format!("{head}{first}").as_bytes()).await;
        // A pause longer than the default deadline, far shorter than the endpoint's 30 s.
        tokio::time::sleep(Duration::from_millis(900)).await;
        let _ = stream.write_all(second.as_bytes()).await;
        outcomes.push(status(&read_all(&mut stream).await));
    }
    assert_eq!(outcomes, vec![Some(408), Some(200)]);
    served.stop().await;
}

// Item 5b --------------------------------------------------------------------------------------

async fn wait_entered(gate: &Gate, count: u32) {
    let entered = tokio::time::timeout(Duration::from_secs(30), gate.entered.acquire_many(count));
    match entered.await {
        Ok(Ok(permits)) => permits.forget(),
        _ => panic!("the held requests did not start"),
    }
}

#[tokio::test]
async fn one_principal_gets_429_past_its_in_flight_cap_and_others_are_served() {
    let app = app(|config| config.max_in_flight_per_principal = 2).await;
    let gate = gate("principal");
    let path = "/api/v1/slow/held?gate=principal";
    let alice = app.token(&["member"]);
    let bob = app.token(&["member"]);
    let mut holding = Vec::new();
    for _ in 0..2 {
        holding.push(tokio::spawn(app.get(path).bearer(&alice).send()));
    }
    wait_entered(&gate, 2).await;
    let refused = app.get(path).bearer(&alice).send().await;
    crate::common::assert_error(&refused, 429, "RATE_LIMITED");
    assert_eq!(refused.header("retry-after"), Some("1"));
    // Another principal is not affected, nor are the health endpoints.
    let other = tokio::spawn(app.get(path).bearer(&bob).send());
    wait_entered(&gate, 1).await;
    assert_eq!(app.get("/health/live").send().await.status(), 200);
    gate.release.add_permits(3);
    for response in holding {
        assert_eq!(response.await.map(|r| r.status()).ok(), Some(200));
    }
    assert_eq!(other.await.map(|r| r.status()).ok(), Some(200));
    // Alice's slots are free again.
    gate.release.add_permits(1);
    let again = app.get(path).bearer(&alice).send().await;
    assert_eq!(again.status(), 200);
}

#[tokio::test]
async fn anonymous_requests_are_capped_per_client_ip_over_tcp() {
    // Over TCP: the cap needs the peer address, which the server hands the router.
    let app = app(|config| config.max_in_flight_per_principal = 1).await;
    let served = Served::start(&app).await;
    let gate = gate("anonymous");
    let request =
        b"GET /api/v1/slow/held_public?gate=anonymous HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
    let address = served.address;
    let first = tokio::spawn(async move { exchange(address, request).await });
    wait_entered(&gate, 1).await;
    let second = exchange(address, request).await;
    assert_eq!(
        status(&second),
        Some(429),
        "{}",
        String::from_utf8_lossy(&second)
    );
    gate.release.add_permits(1);
    let first = first.await.unwrap_or_default();
    assert_eq!(status(&first), Some(200));
    served.stop().await;
}

// Item 5c --------------------------------------------------------------------------------------

#[tokio::test]
async fn health_endpoints_answer_when_the_in_flight_limit_is_full() {
    let app = app(|config| config.max_concurrency = 1).await;
    let gate = gate("shed");
    let path = "/api/v1/slow/held?gate=shed";
    let token = app.token(&["member"]);
    let holding = tokio::spawn(app.get(path).bearer(&token).send());
    wait_entered(&gate, 1).await;
    let shed = app.get(path).bearer(&token).send().await;
    crate::common::assert_error(&shed, 503, "UNAVAILABLE");
    assert_eq!(app.get("/health/live").send().await.status(), 200);
    assert_eq!(app.get("/health/ready").send().await.status(), 200);
    gate.release.add_permits(1);
    assert_eq!(holding.await.map(|r| r.status()).ok(), Some(200));
}

// Item 7 ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_request_head_that_never_completes_is_closed_after_the_header_timeout() {
    let app = app(|config| {
        config.connections.header_read_timeout = Duration::from_millis(300);
        config.connections.keep_alive_timeout = Duration::from_secs(600);
    })
    .await;
    let served = Served::start(&app).await;
    // A partial head on a new connection, and nothing at all on another.
    let partial = exchange(served.address, b"GET /health/live HTTP/1.1\r\nHost: te").await;
    assert!(partial.is_empty(), "closed without a response");
    let mut silent = connect(served.address).await;
    assert!(read_all(&mut silent).await.is_empty());
    // After a response on a kept-alive connection, a new partial head gets the same deadline
    // (and not the ten-minute keep-alive).
    let mut stream = connect(served.address).await;
    let _ = stream
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: test\r\n\r\n")
        .await;
    assert_eq!(status(&read_response(&mut stream).await), Some(200));
    let _ = stream.write_all(b"GET /health/li").await;
    assert!(
        read_all(&mut stream).await.is_empty(),
        "closed without a second response"
    );
    let metrics = app.get("/metrics").send().await.text();
    assert!(
        metrics.contains("http_connections_closed_total{reason=\"header_timeout\"}"),
        "{metrics}"
    );
    served.stop().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let app = app(|config| {
        config.connections.header_read_timeout = Duration::from_secs(600);
        config.connections.keep_alive_timeout = Duration::from_millis(300);
    })
    .await;
    let served = Served::start(&app).await;
    let mut stream = connect(served.address).await;
    let _ = stream
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: test\r\n\r\n")
        .await;
    let response = read_all(&mut stream).await;
    assert_eq!(
        status(&response),
        Some(200),
        "served, kept alive, then closed"
    );
    served.stop().await;
}

#[tokio::test]
async fn connections_past_the_cap_are_closed_at_once() {
    let app = app(|config| config.connections.max_connections = 2).await;
    let served = Served::start(&app).await;
    let live = b"GET /health/live HTTP/1.1\r\nHost: test\r\n\r\n";
    // Two kept-alive connections, each proven accepted by a response.
    let mut open = Vec::new();
    for _ in 0..2 {
        let mut stream = connect(served.address).await;
        let _ = stream.write_all(live).await;
        assert_eq!(status(&read_response(&mut stream).await), Some(200));
        open.push(stream);
    }
    let refused = exchange(served.address, live).await;
    assert!(
        refused.is_empty(),
        "the third connection is closed unanswered"
    );
    // A freed place is taken again (the server notices the close asynchronously: retry).
    drop(open.pop());
    let mut served_again = None;
    for _ in 0..100 {
        let response = exchange(
            served.address,
            b"GET /health/live HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
        )
        .await;
        if !response.is_empty() {
            served_again = status(&response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(served_again, Some(200));
    drop(open);
    served.stop().await;
}

// Item 8 ---------------------------------------------------------------------------------------

async fn through_router(
    app: &TestApp,
    version: axum::http::Version,
    uri: &str,
    hosts: &[&str],
) -> rampart::testing::TestResponse {
    let mut request = axum::http::Request::builder().uri(uri).version(version);
    for host in hosts {
        request = request.header("host", *host);
    }
    let request = request
        .body(axum::body::Body::empty())
        .unwrap_or_else(|e| panic!("{e}"));
    let Ok(response) = app.router().oneshot(request).await;
    rampart::testing::TestResponse::read(response).await
}

#[tokio::test]
async fn http11_without_exactly_one_valid_host_is_400() {
    use axum::http::Version;
    let app = app(|_| {}).await;
    for hosts in [
        &[][..],
        &["a.example", "b.example"][..],
        &["exa mple.com"][..],
        &["user@example.com"][..],
        &["example.com:http"][..],
        &[""][..],
    ] {
        let response = through_router(&app, Version::HTTP_11, "/health/live", hosts).await;
        crate::common::assert_error(&response, 400, "BAD_REQUEST");
    }
    for (version, uri, hosts) in [
        (Version::HTTP_11, "/health/live", &["example.com:8080"][..]),
        (Version::HTTP_11, "/health/live", &["[::1]:3000"][..]),
        (Version::HTTP_10, "/health/live", &[][..]),
        // HTTP/2 names the authority in `:authority`, which is the URI's.
        (Version::HTTP_2, "http://example.com/health/live", &[][..]),
    ] {
        let response = through_router(&app, version, uri, hosts).await;
        assert_eq!(response.status(), 200, "{version:?} {hosts:?}");
    }
    // Over TCP, as hyper hands them over.
    let served = Served::start(&app).await;
    for request in [
        "GET /health/live HTTP/1.1\r\nConnection: close\r\n\r\n",
        "GET /health/live HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
        "GET /health/live HTTP/1.1\r\nHost: a/b\r\nConnection: close\r\n\r\n",
    ] {
        let response = exchange(served.address, request.as_bytes()).await;
        assert_eq!(status(&response), Some(400), "{request:?}");
        assert_eq!(code(&response).as_deref(), Some("BAD_REQUEST"));
    }
    let fine = exchange(served.address, b"GET /health/live HTTP/1.0\r\n\r\n").await;
    assert_eq!(status(&fine), Some(200));
    served.stop().await;
}

// Acceptance -----------------------------------------------------------------------------------

/// Makes sure the process may open `needed` file descriptors.
fn raise_fd_limit(needed: u64) {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current.is_some_and(|current| current >= needed) {
        return;
    }
    let wanted = limit.maximum.map_or(needed, |maximum| maximum.min(needed));
    let raised = setrlimit(
        Resource::Nofile,
        rustix::process::Rlimit {
            current: Some(wanted),
            maximum: limit.maximum,
        },
    );
    assert!(
        raised.is_ok() && wanted >= needed,
        "this test needs {needed} open files; raise `ulimit -n`"
    );
}

#[tokio::test]
async fn one_account_holding_1500_slow_requests_does_not_take_the_server_down() {
    const ATTACK: usize = 1500;
    const ROUNDS: usize = 40;
    raise_fd_limit(8192);
    for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
        let built = crate::common::taskboard_builder()
            .backend(backend)
            .migrations(crate::taskboard::MIGRATIONS)
            .with_identity()
            .configure(|config| {
                config.body_read_timeout = Duration::from_secs(2);
                config.max_in_flight_per_principal = 16;
                // Every client of this test is 127.0.0.1: the per-IP throttle would count the
                // attacker and Bob together, which clients on their own addresses are not.
                config.ip_rate_limit = None;
                // Bob's many requests stay within the projects' declared limit.
                config.rate_limit_multiplier = 10.0;
            })
            .build()
            .await;
        let app = match built {
            Ok(app) => app,
            Err(error) => panic!("cannot build the taskboard on {backend:?}: {error}"),
        };
        let served = Served::start(&app).await;
        let address = served.address;
        let mallory = app.token(&["member"]);
        let bob = app.token(&["member"]);

        // Mallory: 1,500 connections, each a POST announcing 100 bytes and sending one, again
        // as soon as it is answered (after `Retry-After` when refused), until Bob is done.
        let sent = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let head = format!(
            "POST /api/v1/projects HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {mallory}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
        );
        let attackers: Vec<_> = (0..ATTACK)
            .map(|_| {
                let (head, sent, stop) = (head.clone(), sent.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut outcomes = Vec::new();
                    for attempt in 0..100 {
                        let mut stream = connect(address).await;
                        let wrote = stream.write_all(head.as_bytes()).await;
                        if attempt == 0 {
                            sent.fetch_add(1, Ordering::SeqCst);
                        }
                        let response = match wrote {
                            Ok(()) => read_all(&mut stream).await,
                            Err(_) => Vec::new(),
                        };
                        let outcome = status(&response);
                        outcomes.push(outcome);
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        if outcome == Some(429) {
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                    outcomes
                })
            })
            .collect();
        for _ in 0..6000 {
            if sent.load(Ordering::SeqCst) == ATTACK {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            sent.load(Ordering::SeqCst),
            ATTACK,
            "every attacker connected"
        );

        // Bob, and a load balancer's probe, while the attack goes on.
        let mut answered = 0;
        for round in 0..ROUNDS {
            let list = format!(
                "GET /api/v1/projects HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {bob}\r\nConnection: close\r\n\r\n"
            );
            let live = "GET /health/live HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
            let mut requests = vec![list, live.to_owned()];
            if round % 5 == 0 {
                let body = format!(r#"{{"name":"bob {round}"}}"#);
                requests.push(format!(
                    "POST /api/v1/projects HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {bob}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                ));
            }
            for request in requests {
                let response = exchange(address, request.as_bytes()).await;
                assert!(
                    status(&response).is_some_and(|c| (200..300).contains(&c)),
                    "{backend:?}, round {round}: {request:?} got {}",
                    String::from_utf8_lossy(&response)
                );
                answered += 1;
            }
        }
        stop.store(true, Ordering::SeqCst);
        let mut outcomes = Vec::new();
        for attacker in attackers {
            outcomes.extend(attacker.await.unwrap_or_default());
        }
        let count = |wanted: Option<u16>| outcomes.iter().filter(|o| **o == wanted).count();
        assert_eq!(
            answered,
            ROUNDS * 2 + ROUNDS / 5,
            "{backend:?}: Bob got every answer"
        );
        assert_eq!(count(Some(503)), 0, "{backend:?}: nothing was shed");
        assert!(
            count(Some(408)) >= 16,
            "{backend:?}: the admitted stalled requests got 408"
        );
        let others: Vec<_> = outcomes
            .iter()
            .filter(|o| !matches!(o, Some(408) | Some(429) | None))
            .collect();
        assert!(
            others.is_empty(),
            "{backend:?}: every other attempt was refused at once (429) or closed: {others:?}"
        );
        served.stop().await;
    }
}
