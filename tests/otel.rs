//! OpenTelemetry end to end, with a real OTLP/HTTP receiver decoding the protobuf the
//! exporter sends. The tracer provider and the subscriber are global and configured by the
//! standard variables, so the scenario runs in a child process of this binary with
//! `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at the receiver, which this process runs and then
//! reads: a request arriving with a `traceparent`, reading the database, checking its rate
//! limit in Redis and enqueueing an export, then the export job run by a worker.
//!
//! `harness = false`: `main` is the parent unless `RAMPART_OTEL_CHILD` is set.

include!("../examples/taskboard/roles.rs");

#[path = "../examples/taskboard/app.rs"]
#[allow(dead_code)]
mod taskboard;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use rampart::testing::{TestApp, TestBackend};
use serde_json::json;

/// The caller's trace, as a client would send it.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";
/// The trace of an idempotent request (its handler runs in a task of its own).
const IDEMPOTENT_TRACE: &str = "6df92f3577b34da6a3ce929d0e0e4738";
/// The trace a caller names to a service that restarts every trace (`RAMPART_TRACE_INCOMING`).
const REFUSED_TRACE: &str = "5cf92f3577b34da6a3ce929d0e0e4737";
/// The account the identity flows use; no span may hold either.
const EMAIL: &str = "traced.user@example.com";
const PASSWORD: &str = "correct horse battery staple";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|error| panic!("{error}"));
    match std::env::var("RAMPART_OTEL_CHILD").as_deref() {
        Ok("unreachable") => runtime.block_on(unreachable_collector()),
        Ok(_) => runtime.block_on(child()),
        Err(_) => runtime.block_on(parent()),
    }
}

/// What `GET /spawned` answers.
#[derive(serde::Serialize, rampart::Schema)]
struct Spawned {
    notes: i64,
}

/// Counts the notes in a task it starts with `rampart::task::spawn` (and waits for, so the
/// spans are there when the scenario ends).
#[rampart::endpoint(get = "/spawned", role = "member")]
async fn spawned(db: rampart::Db) -> rampart::ApiResult<Spawned> {
    let task = rampart::task::spawn(async move {
        db.read("spawned.count", |pool| async move {
            rampart::with_pool!(&pool, |pool| {
                sqlx::query_scalar("SELECT COUNT(*) FROM notes")
                    .fetch_one(pool)
                    .await
            })
        })
        .await
    });
    let notes = task.await.map_err(rampart::ApiError::internal)??;
    Ok(Spawned { notes })
}

/// What the receiver got, span by span, and the `traceparent` of each webhook call.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Span>>>, Arc<Mutex<Vec<String>>>);

async fn parent() {
    let received = Received::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let address = listener
        .local_addr()
        .unwrap_or_else(|error| panic!("{error}"));
    let router = axum::Router::new()
        .route(
            "/v1/traces",
            axum::routing::post(
                |axum::extract::State(received): axum::extract::State<Received>,
                 body: axum::body::Bytes| async move {
                    let request = ExportTraceServiceRequest::decode(body)
                        .unwrap_or_else(|error| panic!("not OTLP protobuf: {error}"));
                    let mut spans = received.0.lock().unwrap_or_else(|e| e.into_inner());
                    for resource in request.resource_spans {
                        for scope in resource.scope_spans {
                            spans.extend(scope.spans);
                        }
                    }
                    axum::http::StatusCode::OK
                },
            ),
        )
        .route(
            "/hook",
            axum::routing::post(
                |axum::extract::State(received): axum::extract::State<Received>,
                 headers: axum::http::HeaderMap| async move {
                    let traceparent = headers
                        .get("traceparent")
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    received
                        .1
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(traceparent);
                    axum::http::StatusCode::OK
                },
            ),
        )
        .with_state(received.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });

    // A collector nobody listens on: requests are answered as ever, the export fails, and
    // all it costs is the metric.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap_or_else(|error| panic!("{error}"));
    let exe = std::env::current_exe().unwrap_or_else(|error| panic!("{error}"));
    let secrets_file = std::env::temp_dir().join(format!(
        "rampart-otel-secrets-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let unreachable = {
        let exe = exe.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(exe)
                .env("RAMPART_OTEL_CHILD", "unreachable")
                .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{closed}"))
                .env("OTEL_EXPORTER_OTLP_TIMEOUT", "1000")
                .env("OTEL_BSP_SCHEDULE_DELAY", "100")
                .env("RUST_LOG", "warn")
                .status()
        })
        .await
        .unwrap_or_else(|error| panic!("{error}"))
        .unwrap_or_else(|error| panic!("{error}"))
    };
    assert!(
        unreachable.success(),
        "the unreachable-collector scenario failed: {unreachable}"
    );

    let secrets_child = secrets_file.clone();
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new(exe)
            .env("RAMPART_OTEL_CHILD", "1")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{address}"))
            .env("OTEL_SERVICE_NAME", "taskboard-otel-test")
            .env("OTEL_BSP_SCHEDULE_DELAY", "100")
            .env("RUST_LOG", "info")
            .env("TASKBOARD_WEBHOOK_ALLOW_LOOPBACK", "true")
            .env("RAMPART_OTEL_WEBHOOK", format!("http://{address}/hook"))
            .env("RAMPART_OTEL_SECRETS", &secrets_child)
            .status()
    })
    .await
    .unwrap_or_else(|error| panic!("{error}"))
    .unwrap_or_else(|error| panic!("{error}"));
    assert!(status.success(), "the scenario failed: {status}");

    let spans = received.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let trace: Vec<&Span> = spans
        .iter()
        .filter(|span| hex(&span.trace_id) == TRACE_ID)
        .collect();
    let names: Vec<&str> = trace.iter().map(|span| span.name.as_str()).collect();
    let request = find(&trace, |span| {
        span.name == "POST /api/v1/projects/{id}/exports"
    });
    assert_eq!(
        hex(&request.parent_span_id),
        CALLER_SPAN,
        "the request span continues the caller's: {names:?}"
    );
    assert_eq!(request.kind, 2, "server");
    assert_eq!(
        attribute(request, "http.response.status_code"),
        Some("202".into())
    );
    assert!(attribute(request, "user.id").is_some());
    let children = |parent: &Span| -> Vec<&Span> {
        trace
            .iter()
            .copied()
            .filter(|span| span.parent_span_id == parent.span_id)
            .collect()
    };
    let under_request = children(request);
    assert!(
        under_request
            .iter()
            .any(|span| attribute(span, "db.system.name").as_deref() == Some("postgresql")),
        "a database span under the request: {names:?}"
    );
    assert!(
        under_request
            .iter()
            .any(|span| span.name == "rate_limit.check" && span.kind == 3),
        "a Redis client span under the request: {names:?}"
    );
    let job = find(&trace, |span| span.name == "exports process export_project");
    assert_eq!(job.kind, 5, "consumer");
    assert_eq!(
        job.parent_span_id, request.span_id,
        "the job continues the request's trace"
    );
    assert!(
        job.links.iter().any(|link| link.span_id == request.span_id),
        "and links to the request's span"
    );
    assert!(
        children(job)
            .iter()
            .any(|span| attribute(span, "db.system.name").is_some()),
        "the job's statements under its span: {names:?}"
    );
    // The webhook: its delivery job continues the export job's trace, its call is a client
    // span under that job's span, and the receiver got that span as its parent.
    let delivery = find(&trace, |span| {
        span.name == "webhooks process deliver_export_webhook"
    });
    assert_eq!(
        delivery.parent_span_id, job.span_id,
        "enqueued by the export job"
    );
    let call = find(&trace, |span| {
        span.kind == 3 && span.name == "POST" && span.parent_span_id == delivery.span_id
    });
    assert_eq!(
        attribute(call, "http.response.status_code"),
        Some("200".into())
    );
    let hooks = received.1.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert_eq!(
        hooks,
        vec![format!("00-{TRACE_ID}-{}-01", hex(&call.span_id))],
        "the receiver sees the client span as its parent"
    );
    // An idempotent endpoint runs its handler in a task of its own: its statements are still
    // spans under the request's span, in the caller's trace.
    let idempotent: Vec<&Span> = spans
        .iter()
        .filter(|span| hex(&span.trace_id) == IDEMPOTENT_TRACE)
        .collect();
    let create = find(&idempotent, |span| {
        span.name == "POST /api/v1/projects/{id}/tasks"
    });
    assert_eq!(hex(&create.parent_span_id), CALLER_SPAN);
    let names: Vec<&str> = idempotent.iter().map(|span| span.name.as_str()).collect();
    assert!(
        idempotent
            .iter()
            .any(|span| span.parent_span_id == create.span_id && span.name == "tasks.insert"),
        "the handler's statements under the request span: {names:?}"
    );
    // A task the handler spawns: a `task` span under the request's, its statement under it.
    let all: Vec<&Span> = spans.iter().collect();
    let request = find(&all, |span| span.name == "GET /api/v1/spawned");
    let task = find(&all, |span| {
        span.name == "task" && span.parent_span_id == request.span_id
    });
    assert_eq!(task.trace_id, request.trace_id, "in the request's trace");
    let statement = find(&all, |span| span.name == "spawned.count");
    assert_eq!(
        statement.parent_span_id, task.span_id,
        "the spawned task's statement under its span"
    );
    // A service that restarts traces: the caller's trace is not continued, only linked.
    assert!(
        spans
            .iter()
            .all(|span| hex(&span.trace_id) != REFUSED_TRACE),
        "no span in the trace the caller chose"
    );
    let edge = find(&spans.iter().collect::<Vec<_>>(), |span| {
        span.name == "GET /api/v1/info"
            && span
                .links
                .iter()
                .any(|link| hex(&link.trace_id) == REFUSED_TRACE)
    });
    assert!(edge.parent_span_id.is_empty(), "a root span of its own");
    assert_eq!(hex(&edge.links[0].span_id), CALLER_SPAN);
    // Through every identity flow: never a password, token, API key, refresh token or email
    // in a span's name or attributes (the child wrote down the credentials it was given).
    let secrets: Vec<String> = std::fs::read_to_string(&secrets_file)
        .unwrap_or_else(|error| panic!("{error}"))
        .lines()
        .filter(|line| line.len() >= 16)
        .map(str::to_owned)
        .collect();
    assert_eq!(
        secrets.len(),
        4,
        "an access token, two refresh tokens and an API key"
    );
    assert!(
        spans
            .iter()
            .any(|span| span.name == "POST /api/v1/auth/refresh"),
        "the identity flows were traced"
    );
    for span in &spans {
        let mut texts = vec![span.name.clone()];
        texts.extend(
            span.attributes
                .iter()
                .map(|kv| format!("{}={:?}", kv.key, kv.value)),
        );
        for text in texts {
            for secret in secrets
                .iter()
                .map(String::as_str)
                .chain([EMAIL, PASSWORD, "Bearer"])
            {
                assert!(!text.contains(secret), "a secret in a span: {text}");
            }
        }
    }
}

/// The value of an unlabelled counter in a Prometheus text page (0 when absent).
fn counter(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .filter(|line| line.starts_with(name) && !line.starts_with('#'))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|value| value as u64)
        .sum()
}

/// Requests answered with the collector down; the failed exports counted.
async fn unreachable_collector() {
    // Without a guard: the export must keep running for the process all the same.
    assert!(rampart::observability::init_logging_with(
        "taskboard-otel-test",
        std::io::stderr,
        "warn"
    ));
    assert!(rampart::spans::enabled());
    let app: TestApp = TestApp::builder(taskboard::api())
        .dependencies(
            taskboard::dependencies(rampart::Environment::Development)
                .unwrap_or_else(|error| panic!("{error}")),
        )
        .jobs(taskboard::jobs::jobs())
        .map_app(taskboard::jobs::attach)
        .backend(TestBackend::Postgres)
        .migrations(taskboard::MIGRATIONS)
        .with_identity()
        .build()
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let token = app.token(&["member"]);
    for _ in 0..20 {
        let listed = app.get("/api/v1/projects").bearer(&token).send().await;
        assert_eq!(listed.status(), 200, "{}", listed.text());
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let metrics = app.get("/metrics").send().await.text();
        if counter(&metrics, "rampart_otel_export_errors_total") > 0 {
            assert_eq!(counter(&metrics, "rampart_otel_spans_exported_total"), 0);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no failed export counted: {metrics}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(app);
}

fn find<'a>(spans: &[&'a Span], matches: impl Fn(&Span) -> bool) -> &'a Span {
    let names: Vec<&str> = spans.iter().map(|span| span.name.as_str()).collect();
    spans
        .iter()
        .copied()
        .find(|span| matches(span))
        .unwrap_or_else(|| panic!("no such span among {names:?}"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    let value = span
        .attributes
        .iter()
        .find(|kv| kv.key == key)?
        .value
        .as_ref()?;
    Some(match value.value.as_ref()? {
        any_value::Value::StringValue(text) => text.clone(),
        any_value::Value::IntValue(number) => number.to_string(),
        any_value::Value::BoolValue(flag) => flag.to_string(),
        other => format!("{other:?}"),
    })
}

/// Register, log in, refresh, create and use an API key, change the password, log out.
async fn identity_flows(app: &TestApp) {
    let registered = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": EMAIL, "password": PASSWORD, "display_name": "Traced"}))
        .send()
        .await;
    assert_eq!(registered.status(), 201, "{}", registered.text());
    let login = app
        .post("/api/v1/auth/login")
        .json(&json!({"email": EMAIL, "password": PASSWORD}))
        .send()
        .await;
    assert_eq!(login.status(), 200, "{}", login.text());
    let access = login.json()["data"]["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let refresh = login.json()["data"]["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let refreshed = app
        .post("/api/v1/auth/refresh")
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await;
    assert_eq!(refreshed.status(), 200, "{}", refreshed.text());
    let key = app
        .post("/api/v1/auth/api-keys")
        .bearer(&access)
        .json(&json!({"name": "traced"}))
        .send()
        .await;
    assert_eq!(key.status(), 201, "{}", key.text());
    let secret = key.json()["data"]["key"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let used = app
        .get("/api/v1/me")
        .header("x-api-key", &secret)
        .send()
        .await;
    assert_eq!(used.status(), 200, "{}", used.text());
    let changed = app
        .post("/api/v1/auth/password")
        .bearer(&access)
        .json(&json!({"current_password": PASSWORD, "new_password": "another long passphrase"}))
        .send()
        .await;
    assert!(changed.status() < 300, "{}", changed.text());
    let refresh_2 = refreshed.json()["data"]["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let file = std::env::var("RAMPART_OTEL_SECRETS").unwrap_or_else(|error| panic!("{error}"));
    std::fs::write(
        file,
        [access, refresh, secret, refresh_2.clone()].join("\n"),
    )
    .unwrap_or_else(|error| panic!("{error}"));
    let refresh = refresh_2;
    let _ = app
        .post("/api/v1/auth/logout")
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await;
}

/// The scenario, exporting to the parent's receiver.
async fn child() {
    let guard = rampart::observability::init_logging("taskboard-otel-test");
    assert!(
        rampart::spans::enabled(),
        "the export is configured by the variables"
    );
    let redis =
        std::env::var("RAMPART_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let app: TestApp = TestApp::builder(taskboard::api().mount(spawned))
        .dependencies(
            taskboard::dependencies(rampart::Environment::Development)
                .unwrap_or_else(|error| panic!("{error}")),
        )
        .jobs(taskboard::jobs::jobs())
        .map_app(taskboard::jobs::attach)
        .backend(TestBackend::Postgres)
        .redis(
            redis,
            format!("rampart-otel-{}", uuid::Uuid::new_v4().simple()),
        )
        .migrations(taskboard::MIGRATIONS)
        .with_identity()
        .build()
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    identity_flows(&app).await;
    let token = app.token(&["member"]);
    let project = app
        .post("/api/v1/projects")
        .bearer(&token)
        .json(&json!({"name": "traced"}))
        .send()
        .await;
    assert_eq!(project.status(), 201, "{}", project.text());
    let id = project.json()["data"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let webhook = app
        .request(
            axum::http::Method::PUT,
            &format!("/api/v1/projects/{id}/webhook"),
        )
        .bearer(&token)
        .json(&json!({"url": std::env::var("RAMPART_OTEL_WEBHOOK").unwrap_or_default()}))
        .send()
        .await;
    assert_eq!(webhook.status(), 200, "{}", webhook.text());
    let export = app
        .post(&format!("/api/v1/projects/{id}/exports"))
        .bearer(&token)
        .header("traceparent", &format!("00-{TRACE_ID}-{CALLER_SPAN}-01"))
        .send()
        .await;
    assert_eq!(export.status(), 202, "{}", export.text());
    let answer = export
        .header("traceresponse")
        .unwrap_or_else(|| panic!("no traceresponse"))
        .to_owned();
    assert!(answer.starts_with(&format!("00-{TRACE_ID}-")), "{answer}");
    assert!(answer.ends_with("-01"), "sampled: {answer}");
    let task = app
        .post(&format!("/api/v1/projects/{id}/tasks"))
        .bearer(&token)
        .header("idempotency-key", "traced-task-1")
        .header(
            "traceparent",
            &format!("00-{IDEMPOTENT_TRACE}-{CALLER_SPAN}-01"),
        )
        .json(&json!({"title": "traced"}))
        .send()
        .await;
    assert_eq!(task.status(), 201, "{}", task.text());
    let counted = app.get("/api/v1/spawned").bearer(&token).send().await;
    assert_eq!(counted.status(), 200, "{}", counted.text());
    app.drain_jobs()
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let edge: TestApp = TestApp::builder(taskboard::api())
        .dependencies(
            taskboard::dependencies(rampart::Environment::Development)
                .unwrap_or_else(|error| panic!("{error}")),
        )
        .jobs(taskboard::jobs::jobs())
        .map_app(taskboard::jobs::attach)
        .migrations(taskboard::MIGRATIONS)
        .with_identity()
        .configure(|config| config.trace_incoming = rampart::trace::IncomingTrace::Restart)
        .build()
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let info = edge
        .get("/api/v1/info")
        .header(
            "traceparent",
            &format!("00-{REFUSED_TRACE}-{CALLER_SPAN}-01"),
        )
        .send()
        .await;
    assert_eq!(info.status(), 200, "{}", info.text());
    let answer = info.header("traceresponse").unwrap_or_default().to_owned();
    assert!(!answer.contains(REFUSED_TRACE), "{answer}");
    drop(edge);
    // Let the batch go, then flush whatever is left on the way out.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let metrics = app.get("/metrics").send().await.text();
    assert!(
        counter(&metrics, "rampart_otel_spans_exported_total") > 0,
        "{metrics}"
    );
    drop(app);
    drop(guard);
}
