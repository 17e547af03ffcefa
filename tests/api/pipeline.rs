//! The request pipeline: order, panic recovery, timeouts, load shedding, logs and metrics.

use std::time::Duration;

use rampart::prelude::*;
use rampart::testing::{BACKENDS, TestApp, TestBackend, log_lines_with, logs};
use serde::Serialize;

#[derive(Debug, Serialize, Schema)]
struct Done {
    done: bool,
}

/// Panics on purpose.
#[endpoint(get = "/pipeline/panic", public)]
async fn panicking() -> ApiResult<Done> {
    let secret_detail = "internal-panic-detail-4711";
    panic!("{secret_detail}");
}

/// Needs authentication.
#[endpoint(get = "/pipeline/protected")]
async fn protected() -> ApiResult<Done> {
    Ok(Done { done: true })
}

/// Sleeps longer than its timeout.
#[endpoint(get = "/pipeline/slow", public, timeout = "50ms")]
async fn slow() -> ApiResult<Done> {
    tokio::time::sleep(Duration::from_secs(5)).await;
    Ok(Done { done: true })
}

/// Holds its slot for a while.
#[endpoint(get = "/pipeline/hold", public)]
async fn hold() -> ApiResult<Done> {
    tokio::time::sleep(Duration::from_millis(400)).await;
    Ok(Done { done: true })
}

async fn pipeline_app(max_concurrency: usize) -> TestApp {
    let api = Api::new()
        .mount(panicking)
        .mount(protected)
        .mount(slow)
        .mount(hold);
    match TestApp::builder(api)
        .configure(move |c| c.max_concurrency = max_concurrency)
        .build()
        .await
    {
        Ok(app) => app,
        Err(error) => panic!("{error}"),
    }
}

fn metric_value(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        line.strip_prefix(series)
            .and_then(|rest| rest.trim().parse().ok())
    })
}

#[tokio::test]
async fn a_401_and_a_panic_each_carry_the_request_id_and_log_and_count_exactly_once() {
    let app = pipeline_app(64).await;
    let unauthenticated_id = format!("order-401-{}", uuid::Uuid::new_v4().simple());
    let panic_id = format!("order-panic-{}", uuid::Uuid::new_v4().simple());

    let response = app
        .get("/api/v1/pipeline/protected")
        .header("x-request-id", &unauthenticated_id)
        .send()
        .await;
    crate::common::assert_error(&response, 401, "UNAUTHENTICATED");
    assert_eq!(
        response.header("x-request-id"),
        Some(unauthenticated_id.as_str())
    );

    let response = app
        .get("/api/v1/pipeline/panic")
        .header("x-request-id", &panic_id)
        .send()
        .await;
    crate::common::assert_error(&response, 500, "INTERNAL");
    assert_eq!(response.header("x-request-id"), Some(panic_id.as_str()));
    assert!(
        !response.text().contains("4711"),
        "panic text leaked: {}",
        response.text()
    );
    assert_eq!(response.json()["error"]["message"], "internal error");
    assert!(
        !response.text().contains("panicking") && !response.text().contains("pipeline.rs"),
        "no backtrace or location in the response: {}",
        response.text()
    );

    // The server keeps serving.
    assert_eq!(
        app.get("/api/v1/pipeline/protected")
            .bearer(&app.token(&[]))
            .send()
            .await
            .status(),
        200
    );

    for (id, status) in [(&unauthenticated_id, 401), (&panic_id, 500)] {
        let access: Vec<_> = log_lines_with(id)
            .into_iter()
            .filter(|line| {
                line["target"] == "rampart::access" && line["message"] == "request completed"
            })
            .collect();
        assert_eq!(access.len(), 1, "one access line for {id}: {}", logs());
        assert_eq!(access[0]["status"], status);
        assert_eq!(access[0]["request_id"], id.as_str());
        assert_eq!(access[0]["level"], "INFO");
        assert!(
            access[0]["route"]
                .as_str()
                .is_some_and(|r| r.starts_with("/api/v1/pipeline/"))
        );
        assert!(access[0]["duration_ms"].is_number());
        assert!(access[0]["timestamp"].is_string());
        assert_eq!(access[0]["service"], "rampart-test");
    }
    let panic_lines: Vec<_> = log_lines_with(&panic_id)
        .into_iter()
        .filter(|l| l["message"] == "panic")
        .collect();
    assert_eq!(panic_lines.len(), 1);
    assert_eq!(panic_lines[0]["level"], "ERROR");
    assert!(
        panic_lines[0]["panic_message"]
            .as_str()
            .is_some_and(|m| m.contains("internal-panic-detail-4711"))
    );
    assert!(
        panic_lines[0]["panic_location"]
            .as_str()
            .is_some_and(|l| l.contains("pipeline.rs"))
    );
    // The backtrace is in the log (captured whatever RUST_BACKTRACE says), never in the
    // response.
    let backtrace = panic_lines[0]["backtrace"].as_str().unwrap_or_default();
    assert!(
        backtrace.lines().count() > 3 && backtrace.contains("panicking"),
        "{backtrace}"
    );

    let metrics = app.get("/metrics").send().await.text();
    let count = |route: &str, status: u16| {
        metric_value(
            &metrics,
            &format!("http_requests_total{{method=\"GET\",route=\"{route}\",status=\"{status}\"}}"),
        )
    };
    assert_eq!(count("/api/v1/pipeline/panic", 500), Some(1.0), "{metrics}");
    assert_eq!(count("/api/v1/pipeline/protected", 401), Some(1.0));
    assert!(metrics.contains(
        "http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/pipeline/panic\""
    ));
    assert!(metrics.contains(
        "http_errors_total{method=\"GET\",route=\"/api/v1/pipeline/panic\",code=\"INTERNAL\"}"
    ));
}

#[tokio::test]
async fn a_slow_endpoint_times_out_with_503() {
    let app = pipeline_app(64).await;
    // The handler sleeps 5 s and would answer 200: a 503 means the timeout cut it off.
    let response = app.get("/api/v1/pipeline/slow").send().await;
    crate::common::assert_error(&response, 503, "UNAVAILABLE");
    assert_eq!(response.header("retry-after"), Some("1"));
}

#[tokio::test]
async fn over_the_concurrency_limit_requests_are_shed_with_503() {
    let app = pipeline_app(1).await;
    let first = tokio::spawn(app.get("/api/v1/pipeline/hold").send());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let shed = app.get("/api/v1/pipeline/hold").send().await;
    crate::common::assert_error(&shed, 503, "UNAVAILABLE");
    assert_eq!(shed.header("retry-after"), Some("1"));
    let first = first.await.map(|r| r.status());
    assert_eq!(first.ok(), Some(200));
    // The slot is free again.
    assert_eq!(app.get("/api/v1/pipeline/hold").send().await.status(), 200);
}

#[tokio::test]
async fn duplicate_operation_ids_fail_at_mount() {
    let api = Api::new().mount(protected).mount(protected);
    let result = TestApp::builder(api).build().await;
    let message = result.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("operation id `protected` is used by two endpoints"),
        "{message}"
    );
}

#[tokio::test]
async fn logs_never_contain_passwords_or_tokens() {
    for backend in BACKENDS {
        logs_never_contain_passwords_or_tokens_on(backend).await;
    }
}

async fn logs_never_contain_passwords_or_tokens_on(backend: TestBackend) {
    let app = crate::common::taskboard(backend).await;
    let password = format!("canary-password-{}", uuid::Uuid::new_v4().simple());
    let token = app.token(&["member"]);
    let bad_token = format!("{token}tampered");
    let body = serde_json::json!({"title": "x", "password": password});
    let _ = app
        .post("/api/v1/notes")
        .bearer(&token)
        .json(&body)
        .send()
        .await;
    let _ = app
        .post("/api/v1/notes")
        .bearer(&bad_token)
        .json(&body)
        .send()
        .await;
    let _ = app.get("/api/v1/me").bearer(&token).send().await;
    let _ = app
        .get(&format!("/api/v1/me?access_token={token}"))
        .send()
        .await;
    let _ = app
        .post("/api/v1/notes")
        .bearer(&token)
        .json(&serde_json::json!({"title": password}))
        .send()
        .await;
    let captured = logs();
    assert!(!captured.is_empty());
    assert!(!captured.contains(&password), "password leaked into logs");
    let signature = token.rsplit('.').next().unwrap_or_default();
    assert!(!captured.contains(signature), "token leaked into logs");
    assert!(
        !captured.contains(&token) && !captured.contains("Bearer ey"),
        "an Authorization header leaked into logs"
    );
}

#[derive(Debug)]
struct StorageFailure;

impl std::fmt::Display for StorageFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("disk quota exceeded on volume-7")
    }
}

impl std::error::Error for StorageFailure {}

#[derive(Debug)]
struct SaveFailed(StorageFailure);

impl std::fmt::Display for SaveFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("saving the report failed")
    }
}

impl std::error::Error for SaveFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Fails with an internal error that has a cause.
#[endpoint(get = "/pipeline/internal", public)]
async fn internal_failure() -> ApiResult<Done> {
    Err(ApiError::internal(SaveFailed(StorageFailure)))
}

#[tokio::test]
async fn internal_errors_log_their_cause_chain_and_show_nothing() {
    let app = match TestApp::builder(Api::new().mount(internal_failure))
        .build()
        .await
    {
        Ok(app) => app,
        Err(error) => panic!("{error}"),
    };
    let request_id = format!("internal-{}", uuid::Uuid::new_v4().simple());
    let response = app
        .get("/api/v1/pipeline/internal")
        .header("x-request-id", &request_id)
        .send()
        .await;
    crate::common::assert_error(&response, 500, "INTERNAL");
    assert!(
        !response.text().contains("volume-7") && !response.text().contains("saving"),
        "{}",
        response.text()
    );
    let errors: Vec<_> = log_lines_with(&request_id)
        .into_iter()
        .filter(|l| l["level"] == "ERROR")
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0]["error"],
        "saving the report failed: disk quota exceeded on volume-7"
    );
    assert_eq!(errors[0]["code"], "INTERNAL");
}

/// A body for the order test: valid JSON only if `n` is a number.
#[derive(Debug, serde::Deserialize, validator::Validate, Schema)]
#[allow(dead_code)]
struct Numbered {
    #[validate(range(min = 1))]
    n: i64,
}

static ORDER_HANDLED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Rate limited to one call a minute, with a small body.
#[endpoint(
    post = "/order/limited",
    role = "member",
    rate_limit = "1/min",
    body_limit = "1KiB"
)]
async fn order_limited(Json(_input): Json<Numbered>) -> ApiResult<Done> {
    ORDER_HANDLED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    Ok(Done { done: true })
}

/// Holds its slot, for any caller.
#[endpoint(get = "/order/hold", public)]
async fn order_hold() -> ApiResult<Done> {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    Ok(Done { done: true })
}

/// Needs a member.
#[endpoint(get = "/order/member", role = "member")]
async fn order_member() -> ApiResult<Done> {
    Ok(Done { done: true })
}

async fn order_app(change: impl FnOnce(&mut rampart::Config) + Send + 'static) -> TestApp {
    let api = Api::new()
        .mount(panicking)
        .mount(order_limited)
        .mount(order_hold)
        .mount(order_member);
    match TestApp::builder(api).configure(change).build().await {
        Ok(app) => app,
        Err(error) => panic!("{error}"),
    }
}

fn peer(last: u8) -> std::net::SocketAddr {
    std::net::SocketAddr::from(([10, 9, 8, last], 4000))
}

/// A raw request with no `Host` (the testing kit adds one otherwise).
async fn without_host(
    app: &TestApp,
    path: &str,
    peer: std::net::SocketAddr,
) -> rampart::testing::TestResponse {
    use tower::ServiceExt;
    let mut request = axum::http::Request::builder()
        .uri(path)
        .body(axum::body::Body::empty())
        .unwrap_or_else(|e| panic!("{e}"));
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    let Ok(response) = app.router().oneshot(request).await;
    rampart::testing::TestResponse::read(response).await
}

/// The order written once in `runtime/src/pipeline/mod.rs`, asserted layer by layer: for each pair of
/// neighbours, a request that trips both gets the outer one's answer.
#[tokio::test]
async fn the_whole_pipeline_order() {
    // Global layers, on an app with one slot (load shedding) and two requests per IP.
    let app = order_app(|c| {
        c.max_concurrency = 1;
        c.ip_rate_limit = rampart::rate_limit::RateLimitSpec::parse("2/min");
    })
    .await;

    // 1 request id > 2 access log: the access line of any answer carries the request id.
    // 2 access log > 3 panic recovery: a panic is logged as one access line with its 500.
    let panic_id = format!("whole-order-{}", uuid::Uuid::new_v4().simple());
    let panicked = app
        .get("/api/v1/pipeline/panic")
        .header("x-request-id", &panic_id)
        .peer(peer(1))
        .send()
        .await;
    crate::common::assert_error(&panicked, 500, "INTERNAL");
    assert_eq!(panicked.header("x-request-id"), Some(panic_id.as_str()));
    let access: Vec<_> = log_lines_with(&panic_id)
        .into_iter()
        .filter(|line| {
            line["target"] == "rampart::access" && line["message"] == "request completed"
        })
        .collect();
    assert_eq!(access.len(), 1, "{}", logs());
    assert_eq!(access[0]["status"], 500);

    // Hold the only slot.
    let held = tokio::spawn(app.get("/api/v1/order/hold").peer(peer(2)).send());
    tokio::time::sleep(Duration::from_millis(300)).await;
    // 4 security headers > Host check, and Host check > 5 load shedding: with the slot taken, a
    // request without Host is still a 400 (not a 503), and carries the security headers and
    // its request id.
    let no_host = without_host(&app, "/api/v1/order/member", peer(3)).await;
    crate::common::assert_error(&no_host, 400, "BAD_REQUEST");
    assert_eq!(no_host.header("x-content-type-options"), Some("nosniff"));
    assert!(no_host.header("x-request-id").is_some());
    // 5 load shedding > the per-IP limit: shed first, so a shed request spends no IP budget.
    for _ in 0..3 {
        let shed = app.get("/api/v1/order/member").peer(peer(4)).send().await;
        crate::common::assert_error(&shed, 503, "UNAVAILABLE");
    }
    let held = held.await.map(|r| r.status());
    assert_eq!(held.ok(), Some(200));
    // Peer 4 still has its whole budget of two: the 503s above spent none.
    for _ in 0..2 {
        let anonymous = app.get("/api/v1/order/member").peer(peer(4)).send().await;
        crate::common::assert_error(&anonymous, 401, "UNAUTHENTICATED");
    }
    // The per-IP limit > authentication: over its budget, an anonymous caller of a protected
    // endpoint is a 429, not a 401.
    let over = app.get("/api/v1/order/member").peer(peer(4)).send().await;
    crate::common::assert_error(&over, 429, "RATE_LIMITED");

    // Per-endpoint layers, on an app with room for everyone but one request in flight per caller.
    let app = order_app(|c| {
        c.max_in_flight_per_principal = 1;
        c.ip_rate_limit = None;
    })
    .await;
    let member = app.token(&["member"]);
    let huge = "1048576";

    // Authentication > in-flight cap: with peer 5's one anonymous slot taken, its anonymous call
    // of a protected endpoint is a 401, not the cap's 429.
    let held = tokio::spawn(app.get("/api/v1/order/hold").peer(peer(5)).send());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let anonymous = app.get("/api/v1/order/member").peer(peer(5)).send().await;
    crate::common::assert_error(&anonymous, 401, "UNAUTHENTICATED");
    // Authentication > body guard: an anonymous oversized body is a 401, not a 413.
    let anonymous_body = app
        .post("/api/v1/order/limited")
        .header("content-length", huge)
        .peer(peer(6))
        .send()
        .await;
    crate::common::assert_error(&anonymous_body, 401, "UNAUTHENTICATED");
    assert_eq!(held.await.map(|r| r.status()).ok(), Some(200));

    // In-flight cap > rate limit: with the member's one slot taken, a call of the limited
    // endpoint is the cap's 429 and spends none of the limit, so the next call still passes.
    let held = tokio::spawn(app.get("/api/v1/order/hold").bearer(&member).send());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let capped = app
        .post("/api/v1/order/limited")
        .bearer(&member)
        .json(&serde_json::json!({"n": 1}))
        .send()
        .await;
    crate::common::assert_error(&capped, 429, "RATE_LIMITED");
    assert!(
        capped.header("ratelimit").is_none(),
        "the rate limit never saw it"
    );
    assert_eq!(held.await.map(|r| r.status()).ok(), Some(200));
    let before = ORDER_HANDLED.load(std::sync::atomic::Ordering::SeqCst);
    let first = app
        .post("/api/v1/order/limited")
        .bearer(&member)
        .json(&serde_json::json!({"n": 1}))
        .send()
        .await;
    assert_eq!(first.status(), 200, "{}", first.text());
    // Rate limit > body guard: over the limit, a declared oversized body is a 429, not a 413.
    let limited = app
        .post("/api/v1/order/limited")
        .bearer(&member)
        .header("content-length", huge)
        .send()
        .await;
    crate::common::assert_error(&limited, 429, "RATE_LIMITED");
    assert!(limited.header("retry-after").is_some());

    // Body guard > extraction and validation > handler, for a caller with budget left.
    let other = app.token(&["member"]);
    let oversized = app
        .post("/api/v1/order/limited")
        .bearer(&other)
        .header("content-type", "application/json")
        .header("content-length", huge)
        .body("not json at all")
        .send()
        .await;
    crate::common::assert_error(&oversized, 413, "PAYLOAD_TOO_LARGE");
    let third = app.token(&["member"]);
    let invalid = app
        .post("/api/v1/order/limited")
        .bearer(&third)
        .json(&serde_json::json!({"n": 0}))
        .send()
        .await;
    crate::common::assert_error(&invalid, 400, "VALIDATION_ERROR");
    // Only the one valid call reached the handler.
    assert_eq!(
        ORDER_HANDLED.load(std::sync::atomic::Ordering::SeqCst),
        before + 1
    );
}

/// A load balancer's probes are never throttled by the per-IP limit, and spend none of it.
#[tokio::test]
async fn health_endpoints_are_outside_the_per_ip_limit() {
    let app =
        order_app(|c| c.ip_rate_limit = rampart::rate_limit::RateLimitSpec::parse("2/min")).await;
    let probe = peer(20);
    for _ in 0..5 {
        assert_eq!(
            app.get("/health/live").peer(probe).send().await.status(),
            200
        );
        assert_eq!(
            app.get("/health/ready").peer(probe).send().await.status(),
            200
        );
    }
    for _ in 0..2 {
        let anonymous = app.get("/api/v1/order/member").peer(probe).send().await;
        crate::common::assert_error(&anonymous, 401, "UNAUTHENTICATED");
    }
    let over = app.get("/api/v1/order/member").peer(probe).send().await;
    crate::common::assert_error(&over, 429, "RATE_LIMITED");
    assert_eq!(
        app.get("/health/live").peer(probe).send().await.status(),
        200
    );
}
