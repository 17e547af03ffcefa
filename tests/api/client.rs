//! `rampart::client::HttpClient` against a real upstream: an axum server on 127.0.0.1 that
//! records what it receives. Calls are made from inside a handler of a real app, so a request
//! context (request id, trace) exists as in production.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use rampart::client::{ClientError, HttpClient, Refusal};
use rampart::prelude::*;
use rampart::testing::{TestApp, capture_logs, log_lines_with};
use serde::{Deserialize, Serialize};

/// What the upstream saw.
#[derive(Default)]
pub(crate) struct Upstream {
    headers: Mutex<Vec<HeaderMap>>,
    uris: Mutex<Vec<String>>,
    flaky_calls: AtomicUsize,
    post_calls: AtomicUsize,
}

impl Upstream {
    fn seen(&self) -> Vec<HeaderMap> {
        self.headers
            .lock()
            .unwrap_or_else(|e| panic!("{e}"))
            .clone()
    }
}

/// A real HTTP server on 127.0.0.1: `/echo` records headers, `/slow` answers after 5 s,
/// `/flaky` answers 503 twice then 200, `/always-503` (POST) always 503.
pub(crate) async fn upstream() -> (String, Arc<Upstream>) {
    let state = Arc::new(Upstream::default());
    let record = |state: &Upstream, headers: HeaderMap, uri: String| {
        state
            .headers
            .lock()
            .unwrap_or_else(|e| panic!("{e}"))
            .push(headers);
        state
            .uris
            .lock()
            .unwrap_or_else(|e| panic!("{e}"))
            .push(uri);
    };
    let router = axum::Router::new()
        .route(
            "/echo",
            get({
                let state = state.clone();
                move |headers: HeaderMap, uri: axum::http::Uri| async move {
                    record(&state, headers, uri.to_string());
                    "hello"
                }
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route(
            "/flaky",
            get({
                let state = state.clone();
                move || async move {
                    match state.flaky_calls.fetch_add(1, Ordering::SeqCst) {
                        0 | 1 => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
                        _ => (StatusCode::OK, "fine"),
                    }
                }
            }),
        )
        .route(
            "/always-503",
            post({
                let state = state.clone();
                move || async move {
                    state.post_calls.fetch_add(1, Ordering::SeqCst);
                    (StatusCode::SERVICE_UNAVAILABLE, "busy")
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (format!("http://{address}"), state)
}

/// Where the test endpoint calls.
struct Target(String);

#[derive(Serialize, Schema)]
struct Called {
    status: u16,
}

#[derive(Deserialize, Validate, Schema)]
struct CallQuery {
    #[validate(length(max = 200))]
    path: String,
}

/// Calls `<target><path>` and answers the upstream's status.
#[endpoint(get = "/call", public)]
async fn call(
    client: Dep<HttpClient>,
    target: Dep<Target>,
    Query(query): Query<CallQuery>,
) -> ApiResult<Called> {
    let response = client
        .get(&format!("{}{}", target.0, query.path))
        .send()
        .await?
        .error_for_status()?;
    Ok(Called {
        status: response.status().as_u16(),
    })
}

use validator::Validate;

fn loopback_client() -> HttpClient {
    HttpClient::builder()
        .allow_loopback(true)
        .timeout(Duration::from_millis(300))
        .backoff(Duration::from_millis(1), Duration::from_millis(5))
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn app_calling(base: &str, client: HttpClient) -> TestApp {
    TestApp::builder(Api::new().mount(call))
        .dep(client)
        .dep(Target(base.to_owned()))
        .build()
        .await
        .unwrap_or_else(|e| panic!("cannot build the app: {e}"))
}

const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[tokio::test]
async fn a_call_carries_the_request_id_and_a_child_span_and_logs_no_query() {
    capture_logs();
    let (base, upstream) = upstream().await;
    let app = app_calling(&base, loopback_client()).await;
    let response = app
        .get("/api/v1/call?path=%2Fecho%3Ftoken%3Dsecret-value")
        .header("traceparent", PARENT)
        .send()
        .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    let request_id = response
        .header("x-request-id")
        .unwrap_or_else(|| panic!("no request id"))
        .to_owned();
    let seen = upstream.seen();
    assert_eq!(seen.len(), 1);
    let header = |name: &str| {
        seen[0]
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no {name}"))
            .to_owned()
    };
    assert_eq!(header("x-request-id"), request_id);
    let traceparent = header("traceparent");
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    // Same trace as the incoming request; a new span, neither the caller's nor the request's.
    assert_eq!(parts[1], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_ne!(parts[2], "00f067aa0ba902b7");
    let request_span = response
        .header("traceresponse")
        .and_then(|v| v.split('-').nth(2).map(str::to_owned))
        .unwrap_or_else(|| panic!("no traceresponse"));
    assert_ne!(parts[2], request_span);
    assert_eq!(parts[3], "01");
    assert_eq!(
        upstream.uris.lock().unwrap_or_else(|e| panic!("{e}"))[0],
        "/echo?token=secret-value"
    );

    let lines: Vec<_> = log_lines_with(&request_id)
        .into_iter()
        .filter(|line| line["target"] == "rampart::client")
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    let text = line.to_string();
    assert!(!text.contains("secret-value"), "{text}");
    assert!(!text.contains("traceparent"), "{text}");
    let field = |name: &str| {
        line.get(name)
            .or_else(|| line["fields"].get(name))
            .cloned()
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    };
    assert_eq!(field("method"), "GET");
    assert_eq!(field("path"), "/echo");
    assert_eq!(field("status"), 200);
    assert_eq!(field("attempts"), 1);
    assert_eq!(field("level"), "INFO");
    assert!(field("duration_ms").is_u64());
    assert_eq!(field("host"), "127.0.0.1");

    let metrics = app.get("/metrics").send().await.text();
    for expected in [
        "rampart_client_requests_total{host=\"127.0.0.1\",method=\"GET\",status=\"200\"}",
        "rampart_client_request_duration_seconds_bucket{host=\"127.0.0.1\"",
    ] {
        assert!(metrics.contains(expected), "{expected} not in\n{metrics}");
    }
}

#[tokio::test]
async fn outside_a_request_no_trace_or_request_id_is_sent() {
    let (base, upstream) = upstream().await;
    let response = loopback_client()
        .get(&format!("{base}/echo"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), 200);
    assert_eq!(response.body().as_ref(), b"hello");
    let seen = upstream.seen();
    assert!(seen[0].get("traceparent").is_none());
    assert!(seen[0].get("x-request-id").is_none());
}

#[tokio::test]
async fn a_slow_upstream_times_out_and_a_handler_answers_504_without_the_url() {
    let (base, _upstream) = upstream().await;
    let client = HttpClient::builder()
        .allow_loopback(true)
        .timeout(Duration::from_millis(200))
        .max_attempts(1)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let error = client
        .get(&format!("{base}/slow"))
        .send()
        .await
        .map(|r| r.status())
        .err();
    assert!(
        matches!(error, Some(ClientError::Timeout { .. })),
        "{error:?}"
    );

    capture_logs();
    let app = app_calling(&base, client).await;
    let response = app
        .get("/api/v1/call?path=%2Fslow%3Fsecret%3Dhidden-value")
        .send()
        .await;
    assert_eq!(response.status(), 504, "{}", response.text());
    let request_id = response
        .header("x-request-id")
        .unwrap_or_default()
        .to_owned();
    let lines: Vec<_> = log_lines_with(&request_id)
        .into_iter()
        .filter(|line| line["target"] == "rampart::client")
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let text = lines[0].to_string();
    assert!(!text.contains("hidden-value"), "{text}");
    assert!(text.contains("\"WARN\""), "{text}");
    assert!(text.contains("\"timeout\""), "{text}");
    assert_eq!(response.error_code().as_deref(), Some("GATEWAY_TIMEOUT"));
    assert!(
        !response.text().contains("127.0.0.1"),
        "{}",
        response.text()
    );
    assert!(!response.text().contains("/slow"), "{}", response.text());
}

#[tokio::test]
async fn a_get_is_retried_on_503_until_it_succeeds() {
    capture_logs();
    let (base, upstream) = upstream().await;
    let app = app_calling(&base, loopback_client()).await;
    let response = app.get("/api/v1/call?path=%2Fflaky").send().await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(upstream.flaky_calls.load(Ordering::SeqCst), 3);
    let request_id = response
        .header("x-request-id")
        .unwrap_or_default()
        .to_owned();
    let lines: Vec<_> = log_lines_with(&request_id)
        .into_iter()
        .filter(|line| line["target"] == "rampart::client")
        .collect();
    let attempts = lines
        .first()
        .and_then(|line| {
            line.get("attempts")
                .or_else(|| line["fields"].get("attempts"))
        })
        .cloned();
    assert_eq!(attempts, Some(serde_json::json!(3)), "{lines:?}");
    let metrics = app.get("/metrics").send().await.text();
    assert!(
        metrics.contains("rampart_client_retries_total{host=\"127.0.0.1\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_post_is_not_retried_unless_the_caller_opts_in() {
    let (base, upstream) = upstream().await;
    let client = loopback_client();
    let response = client
        .post(&format!("{base}/always-503"))
        .body("{}")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), 503);
    assert_eq!(upstream.post_calls.load(Ordering::SeqCst), 1);
    let error = response.error_for_status().err();
    assert!(
        matches!(error, Some(ClientError::Status { status, .. }) if status == 503),
        "{error:?}"
    );

    let response = client
        .post(&format!("{base}/always-503"))
        .body("{}")
        .retry_non_idempotent()
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), 503);
    assert_eq!(upstream.post_calls.load(Ordering::SeqCst), 1 + 3);
}

#[tokio::test]
async fn non_public_destinations_are_refused_by_default_and_loopback_opens_on_request() {
    let (base, upstream) = upstream().await;
    let port = base.rsplit(':').next().unwrap_or_default().to_owned();
    let closed = HttpClient::new().unwrap_or_else(|e| panic!("{e}"));
    for (url, reason) in [
        (format!("http://127.0.0.1:{port}/echo"), Refusal::Loopback),
        (format!("http://[::1]:{port}/echo"), Refusal::Loopback),
        (
            format!("http://[::ffff:127.0.0.1]:{port}/echo"),
            Refusal::Loopback,
        ),
        (format!("http://localhost:{port}/echo"), Refusal::Loopback),
        ("http://10.0.0.1/echo".to_owned(), Refusal::Private),
        (
            "http://169.254.169.254/latest/meta-data".to_owned(),
            Refusal::LinkLocal,
        ),
        ("ftp://example.com/file".to_owned(), Refusal::Scheme),
    ] {
        let error = closed.get(&url).send().await.map(|r| r.status()).err();
        assert!(
            matches!(&error, Some(ClientError::Refused { reason: r, .. }) if *r == reason),
            "{url}: {error:?}"
        );
    }
    assert!(upstream.seen().is_empty(), "nothing reached the upstream");

    let open = HttpClient::builder()
        .allow_loopback(true)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    for url in [
        format!("http://127.0.0.1:{port}/echo"),
        format!("http://localhost:{port}/echo"),
    ] {
        let response = open
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(response.status(), 200, "{url}");
    }
    // Loopback only: a private address stays refused.
    let error = open
        .get("http://10.0.0.1/")
        .send()
        .await
        .map(|r| r.status())
        .err();
    assert!(
        matches!(
            error,
            Some(ClientError::Refused {
                reason: Refusal::Private,
                ..
            })
        ),
        "{error:?}"
    );

    // A handler's `?` on a refusal: a 502 that names nothing of the destination.
    let app = app_calling(&base, closed).await;
    let response = app.get("/api/v1/call?path=%2Fecho").send().await;
    assert_eq!(response.status(), 502, "{}", response.text());
    assert_eq!(response.error_code().as_deref(), Some("BAD_GATEWAY"));
    assert!(
        !response.text().contains("127.0.0.1"),
        "{}",
        response.text()
    );
    let metrics = app.get("/metrics").send().await.text();
    assert!(
        metrics.contains("rampart_client_refused_total{reason=\"loopback\"}"),
        "{metrics}"
    );
}
