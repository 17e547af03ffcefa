//! W3C trace context at the edge, without the `otel` feature: a request continues its caller's
//! trace (`traceresponse` names it, every line of the request carries it), a malformed
//! `traceparent` starts a new trace, and `RAMPART_TRACE_INCOMING=restart` starts a trace of
//! the service's own for every request, whatever the caller sent. (The exported spans, with
//! the feature: `tests/otel.rs`.)

use rampart::prelude::*;
use rampart::testing::{TestApp, capture_logs, log_lines_with};
use serde::Serialize;

#[derive(Serialize, Schema)]
struct Pong {
    pong: bool,
}

#[endpoint(get = "/ping", public)]
async fn ping() -> ApiResult<Pong> {
    tracing::info!(target: "trace_context", "inside the handler");
    Ok(Pong { pong: true })
}

const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

/// Released by the test once it has the answer: the spawned task logs after the response.
static ANSWERED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Starts three tasks and answers at once: one with `rampart::task::spawn` (which logs only
/// once the test has the answer), one awaited through `rampart::task::carried`, one with
/// plain `tokio::spawn` (which keeps nothing).
#[endpoint(get = "/spawn")]
async fn spawn_tasks() -> ApiResult<Pong> {
    rampart::task::spawn(async {
        ANSWERED.notified().await;
        tracing::info!(target: "trace_context", "inside the spawned task");
    });
    tokio::spawn(rampart::task::carried(async {
        tracing::info!(target: "trace_context", "inside the carried task");
    }))
    .await
    .map_err(ApiError::internal)?;
    tokio::spawn(async {
        tracing::info!(target: "trace_context", "inside a plain tokio task");
    });
    Ok(Pong { pong: true })
}

async fn app(incoming: rampart::trace::IncomingTrace) -> TestApp {
    TestApp::builder(Api::new().mount(ping).mount(spawn_tasks))
        .configure(move |config| config.trace_incoming = incoming)
        .build()
        .await
        .unwrap_or_else(|e| panic!("cannot build the app: {e}"))
}

/// `traceresponse`'s trace id, span id and flags.
fn traceresponse(response: &rampart::testing::TestResponse) -> (String, String, String) {
    let value = response
        .header("traceresponse")
        .unwrap_or_else(|| panic!("no traceresponse"))
        .to_owned();
    let parts: Vec<&str> = value.split('-').collect();
    assert_eq!(parts.len(), 4, "{value}");
    assert_eq!(parts[0], "00", "{value}");
    (
        parts[1].to_owned(),
        parts[2].to_owned(),
        parts[3].to_owned(),
    )
}

async fn ping_with(app: &TestApp, traceparent: Option<&str>) -> rampart::testing::TestResponse {
    let mut request = app.get("/api/v1/ping");
    if let Some(traceparent) = traceparent {
        request = request.header("traceparent", traceparent);
    }
    let response = request.send().await;
    assert_eq!(response.status(), 200, "{}", response.text());
    response
}

#[tokio::test]
async fn a_request_continues_its_callers_trace_and_its_lines_name_it() {
    capture_logs();
    let app = app(rampart::trace::IncomingTrace::Continue).await;
    let sampled = format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01");
    let response = ping_with(&app, Some(&sampled)).await;
    let (trace, span, flags) = traceresponse(&response);
    assert_eq!(trace, CALLER_TRACE);
    assert_ne!(
        span, CALLER_SPAN,
        "the request's own span, a child of the caller's"
    );
    assert_eq!(flags, "01", "the caller's sampling decision stands");

    let request_id = response
        .header("x-request-id")
        .unwrap_or_default()
        .to_owned();
    let lines = log_lines_with(&request_id);
    assert!(
        lines
            .iter()
            .any(|line| line["message"] == "inside the handler"),
        "{lines:#?}"
    );
    for line in &lines {
        assert_eq!(line["trace_id"], CALLER_TRACE, "{line}");
        assert_eq!(line["span_id"], span.as_str(), "{line}");
    }

    let unsampled = format!("00-{CALLER_TRACE}-{CALLER_SPAN}-00");
    let (_, _, flags) = traceresponse(&ping_with(&app, Some(&unsampled)).await);
    assert_eq!(flags, "00");
}

/// The lines of tasks a handler starts through `rampart::task` carry the request's id, trace
/// and user, also when the task logs after the response; a plain `tokio::spawn` keeps none.
#[tokio::test]
async fn tasks_a_handler_starts_keep_the_requests_fields() {
    capture_logs();
    let app = app(rampart::trace::IncomingTrace::Continue).await;
    let user = uuid::Uuid::now_v7();
    let response = app
        .get("/api/v1/spawn")
        .bearer(&app.token_for(user, &[]))
        .header(
            "traceparent",
            &format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"),
        )
        .send()
        .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    let (_, span, _) = traceresponse(&response);
    let request_id = response
        .header("x-request-id")
        .unwrap_or_default()
        .to_owned();
    // A stored permit if the task is not waiting yet: it logs after this point either way.
    ANSWERED.notify_one();
    let line = |message: &str| {
        rampart::testing::logs()
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find(|line| line["message"] == message)
    };
    // The detached tasks log after the answer: wait for their lines (no time is asserted).
    for _ in 0..500 {
        if line("inside the spawned task").is_some() && line("inside a plain tokio task").is_some()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    for message in ["inside the spawned task", "inside the carried task"] {
        let found = line(message).unwrap_or_else(|| panic!("no line {message:?}"));
        assert_eq!(found["request_id"], request_id.as_str(), "{found}");
        assert_eq!(found["trace_id"], CALLER_TRACE, "{found}");
        assert_eq!(found["span_id"], span.as_str(), "{found}");
        assert_eq!(found["user_id"], user.to_string().as_str(), "{found}");
    }
    let plain = line("inside a plain tokio task").unwrap_or_else(|| panic!("no plain line"));
    assert!(plain.get("request_id").is_none(), "{plain}");
}

#[tokio::test]
async fn a_malformed_or_missing_traceparent_starts_a_new_trace() {
    let app = app(rampart::trace::IncomingTrace::Continue).await;
    let mut seen = Vec::new();
    for traceparent in [
        None,
        Some(format!(
            "00-{}-{CALLER_SPAN}-01",
            CALLER_TRACE.to_uppercase()
        )),
        Some(format!("00-{}-{CALLER_SPAN}-01", "0".repeat(32))),
        Some(format!("ff-{CALLER_TRACE}-{CALLER_SPAN}-01")),
        Some("garbage".to_owned()),
    ] {
        let (trace, span, _) = traceresponse(&ping_with(&app, traceparent.as_deref()).await);
        assert_ne!(trace, CALLER_TRACE, "{traceparent:?}");
        assert_eq!(trace.len(), 32);
        assert_ne!(trace, "0".repeat(32));
        assert_eq!(span.len(), 16);
        seen.push(trace);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "a new trace each time: {seen:?}");
}

#[tokio::test]
async fn restart_gives_every_request_a_trace_of_its_own() {
    let app = app(rampart::trace::IncomingTrace::Restart).await;
    let sampled = format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01");
    let first = traceresponse(&ping_with(&app, Some(&sampled)).await);
    let second = traceresponse(&ping_with(&app, Some(&sampled)).await);
    for (trace, span, flags) in [&first, &second] {
        assert_ne!(trace, CALLER_TRACE, "the caller cannot choose the trace");
        assert_ne!(span, CALLER_SPAN);
        // Without an exporter nothing is recorded: the caller's `01` does not force it.
        assert_eq!(flags, "00");
    }
    assert_ne!(first.0, second.0);
}

#[test]
fn the_setting_reads_continue_or_restart_and_refuses_anything_else() {
    let read = |value: &'static str| {
        rampart::Config::from_lookup(&move |name| match name {
            "RAMPART_TRACE_INCOMING" => Some(value.to_owned()),
            _ => None,
        })
    };
    let config = rampart::Config::from_lookup(&|_| None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        config.trace_incoming,
        rampart::trace::IncomingTrace::Continue
    );
    for (value, expected) in [
        ("continue", rampart::trace::IncomingTrace::Continue),
        ("Restart", rampart::trace::IncomingTrace::Restart),
    ] {
        let config = read(value).unwrap_or_else(|e| panic!("{value}: {e}"));
        assert_eq!(config.trace_incoming, expected, "{value}");
    }
    let refused = read("trust-everyone").err().map(|e| e.to_string());
    assert!(
        refused
            .as_deref()
            .is_some_and(|e| e.contains("RAMPART_TRACE_INCOMING")),
        "{refused:?}"
    );
}
