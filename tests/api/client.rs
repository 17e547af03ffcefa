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

/// A real HTTP server on 127.0.0.1: `/echo` records headers, `/slow` and `/hang/{name}` answer
/// after 5 s,
/// `/flaky` answers 503 twice then 200, `/always-503` (POST) always 503; any other path
/// records its headers and URI and answers 200 (webhook-shaped paths).
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
            "/hang/{name}",
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
        )
        .fallback({
            let state = state.clone();
            move |headers: HeaderMap, uri: axum::http::Uri| async move {
                record(&state, headers, uri.to_string());
                "received"
            }
        });
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
    /// The call's log line without its path (`Call::log_without_path`).
    #[serde(default)]
    hide_path: bool,
}

/// Calls `<target><path>` and answers the upstream's status.
#[endpoint(get = "/call", public)]
async fn call(
    client: Dep<HttpClient>,
    target: Dep<Target>,
    Query(query): Query<CallQuery>,
) -> ApiResult<Called> {
    let call = client.get(&format!("{}{}", target.0, query.path));
    let call = match query.hide_path {
        true => call.log_without_path(),
        false => call,
    };
    let response = call.send().await?.error_for_status()?;
    Ok(Called {
        status: response.status().as_u16(),
    })
}

use validator::Validate;

fn loopback_client() -> HttpClient {
    HttpClient::builder()
        .allow_loopback(true)
        .timeout(Duration::from_millis(300))
        // Retries are what these tests count: never cut by the default deadline (600 ms).
        .deadline(Duration::from_secs(30))
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

/// The deadline bounds the whole call: an upstream that does not answer within it gets one
/// attempt, however many are allowed and however long each may take; a call's own timeout
/// replaces the client's for each of its attempts. The attempts are the client's own count
/// (its log line), which does not depend on how soon the upstream sees them.
#[tokio::test]
async fn a_call_ends_at_its_deadline_and_a_call_may_set_its_own_timeout() {
    capture_logs();
    let (base, _upstream) = upstream().await;
    let client = HttpClient::builder()
        .allow_loopback(true)
        .timeout(Duration::from_secs(30))
        .deadline(Duration::from_millis(400))
        .max_attempts(5)
        .backoff(Duration::from_millis(1), Duration::from_millis(5))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    // Paths of this test's own: the lines are told from other tests' by them.
    let attempts_of = |path: &str| -> Vec<serde_json::Value> {
        rampart::testing::logs()
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|line| {
                line["target"] == "rampart::client"
                    && field(line, "path") == Some(serde_json::json!(path))
            })
            .filter_map(|line| field(&line, "attempts"))
            .collect()
    };
    times_out(client.get(&format!("{base}/hang/deadline-spent"))).await;
    assert_eq!(
        attempts_of("/hang/deadline-spent"),
        vec![serde_json::json!(1)],
        "no retry once the deadline is spent"
    );

    // Its own timeout per attempt, and a deadline long enough for all five.
    times_out(
        client
            .get(&format!("{base}/hang/own-timeout"))
            .timeout(Duration::from_millis(100))
            .deadline(Duration::from_secs(60)),
    )
    .await;
    assert_eq!(
        attempts_of("/hang/own-timeout"),
        vec![serde_json::json!(5)],
        "five attempts of 100 ms each"
    );
}

/// Sends `call` and checks that it failed with a timeout.
async fn times_out(outgoing: rampart::client::Call<'_>) {
    let error = outgoing.send().await.err();
    assert!(
        matches!(error, Some(ClientError::Timeout { .. })),
        "{error:?}"
    );
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
        // Other spellings of loopback and "any" (the URL parser reads them as addresses).
        (format!("http://2130706433:{port}/echo"), Refusal::Loopback),
        (format!("http://0x7f.1:{port}/echo"), Refusal::Loopback),
        (format!("http://127.1:{port}/echo"), Refusal::Loopback),
        (format!("http://0177.0.0.1:{port}/echo"), Refusal::Loopback),
        (format!("http://0.0.0.0:{port}/echo"), Refusal::Unspecified),
        (format!("http://[::]:{port}/echo"), Refusal::Unspecified),
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

    // A handler's `?` on a refusal: the caller's 422, naming nothing of the destination,
    // for an IP literal and for a name that resolves to a refused address.
    let reached = upstream.seen().len();
    let app = app_calling(&base, closed.clone()).await;
    let response = app.get("/api/v1/call?path=%2Fecho").send().await;
    assert_refused_answer(&response, &port);
    let by_name = app_calling(&format!("http://localhost:{port}"), closed).await;
    let response = by_name.get("/api/v1/call?path=%2Fecho").send().await;
    assert_refused_answer(&response, &port);
    assert_eq!(
        upstream.seen().len(),
        reached,
        "nothing more reached the upstream"
    );
    let metrics = app.get("/metrics").send().await.text();
    assert!(
        metrics.contains("rampart_client_refused_total{reason=\"loopback\"}"),
        "{metrics}"
    );
}

/// A refused destination as a handler's `?` answers it: 422 `DESTINATION_REFUSED`, the code's
/// message, nothing of the address.
fn assert_refused_answer(response: &rampart::testing::TestResponse, port: &str) {
    assert_eq!(response.status(), 422, "{}", response.text());
    assert_eq!(
        response.error_code().as_deref(),
        Some("DESTINATION_REFUSED")
    );
    let body = response.text();
    let port = format!(":{port}");
    for leak in [
        "127.0.0.1",
        "localhost",
        "[::1]",
        &port,
        "loopback",
        "/echo",
    ] {
        assert!(!body.contains(leak), "{leak} in {body}");
    }
    assert_eq!(
        response.json()["error"]["message"],
        "the URL given points at a destination that is not allowed"
    );
}

/// The `rampart::client` lines of the request `response` answered.
fn client_lines(response: &rampart::testing::TestResponse) -> Vec<serde_json::Value> {
    let request_id = response
        .header("x-request-id")
        .unwrap_or_else(|| panic!("no request id"))
        .to_owned();
    log_lines_with(&request_id)
        .into_iter()
        .filter(|line| line["target"] == "rampart::client")
        .collect()
}

/// A field of a JSON log line (top level or under `fields`).
fn field(line: &serde_json::Value, name: &str) -> Option<serde_json::Value> {
    line.get(name).or_else(|| line["fields"].get(name)).cloned()
}

/// A Slack-style incoming-webhook token (24 mixed-case letters and digits) and a Discord-style
/// one (68 base64url characters): the secrets receivers put in their paths.
const SLACK_TOKEN: &str = "a1B2c3D4e5F6g7H8i9J0k1L2";
const DISCORD_TOKEN: &str = "Xy-9_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZab";

#[tokio::test]
async fn secret_path_segments_are_logged_redacted_and_a_call_can_log_no_path() {
    capture_logs();
    let (base, upstream) = upstream().await;
    let app = app_calling(&base, loopback_client()).await;
    let slack = format!("/services/T0000/B0000/{SLACK_TOKEN}");
    let discord = format!("/api/webhooks/123456789012345678/{DISCORD_TOKEN}");
    for (path, logged) in [
        (slack.as_str(), "/services/T0000/B0000/:redacted"),
        (discord.as_str(), "/api/webhooks/:redacted/:redacted"),
        (
            "/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "/services/T0000/B0000/:redacted",
        ),
        ("/users/ann%40example.org/inbox", "/users/:redacted/inbox"),
        ("/v1/projects/42/events", "/v1/projects/42/events"),
    ] {
        let query: String = url_encode(path);
        let response = app.get(&format!("/api/v1/call?path={query}")).send().await;
        assert_eq!(response.status(), 200, "{path}: {}", response.text());
        let lines = client_lines(&response);
        assert_eq!(lines.len(), 1, "{path}: {lines:?}");
        let text = lines[0].to_string();
        for secret in [
            SLACK_TOKEN,
            DISCORD_TOKEN,
            "XXXXXXXXXXXXXXXXXXXXXXXX",
            "ann%40",
        ] {
            assert!(!text.contains(secret), "{path}: {text}");
        }
        assert_eq!(field(&lines[0], "path"), Some(serde_json::json!(logged)));
        assert_eq!(
            field(&lines[0], "host"),
            Some(serde_json::json!("127.0.0.1"))
        );
    }
    // The upstream got the real paths: only the log line is redacted.
    let uris = upstream
        .uris
        .lock()
        .unwrap_or_else(|e| panic!("{e}"))
        .clone();
    assert!(uris.contains(&slack), "{uris:?}");
    assert!(uris.contains(&discord), "{uris:?}");

    // A call that asks for no path: its line has none, and still the host and the status.
    let query = url_encode(&format!("/plainpath/{SLACK_TOKEN}"));
    let response = app
        .get(&format!("/api/v1/call?path={query}&hide_path=true"))
        .send()
        .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    let lines = client_lines(&response);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let text = lines[0].to_string();
    assert!(!text.contains("plainpath"), "{text}");
    assert_eq!(field(&lines[0], "path"), None, "{text}");
    assert_eq!(
        field(&lines[0], "host"),
        Some(serde_json::json!("127.0.0.1"))
    );
    assert_eq!(field(&lines[0], "status"), Some(serde_json::json!(200)));

    // The refusal's line (an IP literal refused before sending) is redacted the same way.
    let port = base.rsplit(':').next().unwrap_or_default().to_owned();
    let closed = HttpClient::new().unwrap_or_else(|e| panic!("{e}"));
    let refusing = app_calling(&format!("http://127.0.0.1:{port}"), closed).await;
    let response = refusing
        .get(&format!("/api/v1/call?path={}", url_encode(&slack)))
        .send()
        .await;
    assert_eq!(response.status(), 422, "{}", response.text());
    let lines = client_lines(&response);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let text = lines[0].to_string();
    assert!(!text.contains(SLACK_TOKEN), "{text}");
    assert_eq!(
        field(&lines[0], "path"),
        Some(serde_json::json!("/services/T0000/B0000/:redacted")),
        "{text}"
    );
    assert_eq!(
        field(&lines[0], "error"),
        Some(serde_json::json!("refused"))
    );
}

/// `path` as a query parameter's value.
fn url_encode(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn a_name_resolving_to_a_refused_address_is_tried_once_however_many_attempts() {
    capture_logs();
    let (base, upstream) = upstream().await;
    let port = base.rsplit(':').next().unwrap_or_default().to_owned();
    // `localhost` reaches the resolver (an IP literal is refused before the attempt loop),
    // and a GET is retried on connect errors: three attempts if a refusal counted as one.
    let closed = HttpClient::builder()
        .max_attempts(3)
        .backoff(Duration::from_millis(1), Duration::from_millis(5))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let app = app_calling(&format!("http://localhost:{port}"), closed).await;
    let response = app.get("/api/v1/call?path=%2Fecho").send().await;
    assert_refused_answer(&response, &port);
    let lines = client_lines(&response);
    assert_eq!(lines.len(), 1, "one line for the call: {lines:?}");
    assert_eq!(
        field(&lines[0], "attempts"),
        Some(serde_json::json!(1)),
        "{lines:?}"
    );
    assert_eq!(
        field(&lines[0], "error"),
        Some(serde_json::json!("refused"))
    );
    assert_eq!(field(&lines[0], "level"), Some(serde_json::json!("WARN")));
    assert!(upstream.seen().is_empty(), "nothing reached the upstream");
    let metrics = app.get("/metrics").send().await.text();
    assert!(
        !metrics.contains("rampart_client_retries_total{host=\"localhost\"}"),
        "a refusal is not retried:\n{metrics}"
    );
    assert!(
        metrics.contains("rampart_client_refused_total{reason=\"loopback\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn check_destination_applies_a_calls_checks_without_calling() {
    let (base, upstream) = upstream().await;
    let port = base.rsplit(':').next().unwrap_or_default().to_owned();
    let closed = HttpClient::new().unwrap_or_else(|e| panic!("{e}"));
    let open = loopback_client();
    let reason = |result: Result<(), ClientError>| match result {
        Err(ClientError::Refused { reason, .. }) => Some(reason),
        Ok(()) => None,
        Err(other) => panic!("not a refusal: {other:?}"),
    };
    for (url, closed_says, open_says) in [
        (
            format!("http://127.0.0.1:{port}/echo"),
            Some(Refusal::Loopback),
            None,
        ),
        (
            format!("http://localhost:{port}/echo"),
            Some(Refusal::Loopback),
            None,
        ),
        (
            format!("http://[::1]:{port}/echo"),
            Some(Refusal::Loopback),
            None,
        ),
        (
            "http://10.0.0.1/hook".to_owned(),
            Some(Refusal::Private),
            Some(Refusal::Private),
        ),
        (
            "http://169.254.169.254/latest/meta-data".to_owned(),
            Some(Refusal::LinkLocal),
            Some(Refusal::LinkLocal),
        ),
        (
            "ftp://example.com/file".to_owned(),
            Some(Refusal::Scheme),
            Some(Refusal::Scheme),
        ),
    ] {
        assert_eq!(
            reason(closed.check_destination(&url).await),
            closed_says,
            "{url}"
        );
        assert_eq!(
            reason(open.check_destination(&url).await),
            open_says,
            "{url}"
        );
    }
    assert!(
        matches!(
            closed.check_destination("not a url").await,
            Err(ClientError::Invalid(_))
        ),
        "a URL that does not parse"
    );
    assert!(upstream.seen().is_empty(), "a check sends nothing");
}
