//! Idempotency keys through the real router, on each store: the database (SQLite and
//! PostgreSQL, `rampart_idempotency`) and Redis. A repeat replays the first answer without
//! running the handler (counted by the handler itself, and by the taskboard's rows); the same
//! key with another body is 422; a repeat while the first is still running is 409 (the first
//! is held on a `Notify` the test releases, so nothing depends on timing); answers are kept
//! per user; 5xx answers and credential-bearing answers are not kept; keys expire; malformed
//! keys are 400 with the field; the header means nothing where the endpoint is not
//! idempotent; an unreachable Redis refuses keyed requests with 503 rather than run them.

use std::sync::Arc;

use rampart::Sensitive;
use rampart::prelude::*;
use rampart::testing::{BACKENDS, TestApp, TestAppBuilder, TestBackend, TestResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::Notify;

use crate::common::assert_error;

use crate::common::Calls;

/// Holds `slow_order` inside its handler until the test lets it go.
#[derive(Debug, Clone, Default)]
struct Gate {
    entered: Arc<Notify>,
    release: Arc<Notify>,
}

#[derive(Debug, Deserialize, Serialize, validator::Validate, Schema)]
struct Order {
    item: String,
}

#[derive(Debug, Serialize, Schema)]
struct Placed {
    number: usize,
    item: String,
}

#[derive(Debug, Serialize, Schema)]
struct Secret {
    secret: String,
}

fn placed(calls: &Calls, order: Order) -> ApiResult<Created<Placed>> {
    let number = calls.next();
    Ok(Created::at(
        format!("/api/v1/orders/{number}"),
        Placed {
            number,
            item: order.item,
        },
    ))
}

/// Places an order, numbered by how many ran.
#[endpoint(post = "/orders", idempotent, rate_limit = "100/min")]
async fn place_order(calls: Dep<Calls>, Json(order): Json<Order>) -> ApiResult<Created<Placed>> {
    placed(&calls, order)
}

/// Places an order once the test releases it.
#[endpoint(post = "/orders/gated", idempotent)]
async fn gated_order(
    calls: Dep<Calls>,
    gate: Dep<Gate>,
    Json(order): Json<Order>,
) -> ApiResult<Created<Placed>> {
    gate.entered.notify_one();
    gate.release.notified().await;
    placed(&calls, order)
}

/// Places an order once the test releases it, with a timeout shorter than the test's wait.
#[endpoint(post = "/orders/gated-brief", idempotent, timeout = "200ms")]
async fn gated_brief_order(
    calls: Dep<Calls>,
    gate: Dep<Gate>,
    Json(order): Json<Order>,
) -> ApiResult<Created<Placed>> {
    gate.entered.notify_one();
    gate.release.notified().await;
    placed(&calls, order)
}

/// Fails (500) the first time it runs, then places orders.
#[endpoint(post = "/orders/flaky", idempotent)]
async fn flaky_order(calls: Dep<Calls>, Json(order): Json<Order>) -> ApiResult<Created<Placed>> {
    if calls.count() == 0 {
        calls.next();
        return Err(ApiError::internal("the first attempt fails"));
    }
    placed(&calls, order)
}

/// Panics the first time it runs (the edge answers 500), then places orders.
#[endpoint(post = "/orders/panicky", idempotent)]
async fn panicky_order(calls: Dep<Calls>, Json(order): Json<Order>) -> ApiResult<Created<Placed>> {
    if calls.next() == 1 {
        panic!("the first attempt panics");
    }
    placed(&calls, order)
}

/// Takes small bodies only.
#[endpoint(post = "/orders/small", idempotent, body_limit = "32")]
async fn small_order(calls: Dep<Calls>, Json(order): Json<Order>) -> ApiResult<Created<Placed>> {
    placed(&calls, order)
}

/// Keeps its answers for two seconds only.
#[endpoint(post = "/orders/brief", idempotent(ttl = "2s"))]
async fn brief_order(calls: Dep<Calls>, Json(order): Json<Order>) -> ApiResult<Created<Placed>> {
    placed(&calls, order)
}

/// Renames an order: a PATCH may be idempotent too.
#[endpoint(patch = "/orders/{id}", idempotent)]
async fn rename_order(
    calls: Dep<Calls>,
    Path(id): Path<u64>,
    Json(order): Json<Order>,
) -> ApiResult<Placed> {
    calls.next();
    Ok(Placed {
        number: usize::try_from(id).unwrap_or_default(),
        item: order.item,
    })
}

/// A POST that does not declare `idempotent`.
#[endpoint(post = "/orders/plain")]
async fn plain_order(calls: Dep<Calls>, Json(order): Json<Order>) -> ApiResult<Created<Placed>> {
    placed(&calls, order)
}

/// Shows a secret once (a `Sensitive` answer, `Cache-Control: no-store`).
#[endpoint(post = "/secrets", idempotent)]
async fn issue_secret(
    calls: Dep<Calls>,
    Json(_order): Json<Order>,
) -> ApiResult<Sensitive<Secret>> {
    let number = calls.next();
    Ok(Sensitive(Secret {
        secret: format!("shown-once-{number}-{}", uuid::Uuid::new_v4().simple()),
    }))
}

fn api() -> Api {
    Api::new()
        .mount(place_order)
        .mount(gated_order)
        .mount(gated_brief_order)
        .mount(flaky_order)
        .mount(panicky_order)
        .mount(brief_order)
        .mount(plain_order)
        .mount(small_order)
        .mount(rename_order)
        .mount(issue_secret)
}

/// Where the records live in a test.
#[derive(Debug, Clone, Copy)]
enum Store {
    Database(TestBackend),
    Redis,
}

const STORES: [Store; 3] = [
    Store::Database(TestBackend::Sqlite),
    Store::Database(TestBackend::Postgres),
    Store::Redis,
];

fn redis_url() -> String {
    std::env::var("RAMPART_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn on(builder: TestAppBuilder, store: Store, prefix: &str) -> TestAppBuilder {
    match store {
        Store::Database(backend) => builder.backend(backend),
        // No database: the records can only be in Redis.
        Store::Redis => builder.redis(redis_url(), prefix),
    }
}

struct Fixture {
    app: TestApp,
    calls: Calls,
    gate: Gate,
    prefix: String,
}

async fn fixture(store: Store) -> Fixture {
    let calls = Calls::default();
    let gate = Gate::default();
    let prefix = format!("rampart-test-{}", uuid::Uuid::new_v4().simple());
    let builder = TestApp::builder(api()).dep(calls.clone()).dep(gate.clone());
    let app = on(builder, store, &prefix)
        .build()
        .await
        .unwrap_or_else(|error| panic!("cannot build the app on {store:?}: {error}"));
    Fixture {
        app,
        calls,
        gate,
        prefix,
    }
}

async fn post(
    app: &TestApp,
    path: &str,
    token: &str,
    key: Option<&str>,
    item: &str,
) -> TestResponse {
    let mut request = app.post(path).bearer(token).json(&json!({ "item": item }));
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    request.send().await
}

fn key() -> String {
    format!("key-{}", uuid::Uuid::new_v4())
}

#[tokio::test]
async fn a_repeat_gets_the_first_answer_and_the_handler_runs_once() {
    for store in STORES {
        let Fixture { app, calls, .. } = fixture(store).await;
        let token = app.token(&[]);
        let key = key();
        let first = post(&app, "/api/v1/orders", &token, Some(&key), "tea").await;
        assert_eq!(first.status(), 201, "{store:?}: {}", first.text());
        assert_eq!(first.header("idempotent-replayed"), None);
        let again = post(&app, "/api/v1/orders", &token, Some(&key), "tea").await;
        assert_eq!(again.status(), 201, "{store:?}: {}", again.text());
        assert_eq!(again.json(), first.json(), "{store:?}: the stored body");
        assert_eq!(again.header("location"), first.header("location"));
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(calls.count(), 1, "{store:?}: the handler ran once");
        // Its own request id and the rate limit as it is now, not the stored ones.
        assert!(again.header("x-request-id").is_some());
        assert_ne!(again.header("x-request-id"), first.header("x-request-id"));
        assert_eq!(
            first.header("ratelimit").map(|v| v.contains("r=99")),
            Some(true)
        );
        assert_eq!(
            again.header("ratelimit").map(|v| v.contains("r=98")),
            Some(true)
        );
    }
}

#[tokio::test]
async fn a_patch_is_replayed_and_another_path_with_its_key_is_422() {
    let Fixture { app, calls, .. } = fixture(Store::Database(TestBackend::Sqlite)).await;
    let token = app.token(&[]);
    let key = key();
    let send = |path: &'static str| {
        app.request(axum::http::Method::PATCH, path)
            .bearer(&token)
            .header("idempotency-key", &key)
            .json(&json!({"item": "green tea"}))
            .send()
    };
    let first = send("/api/v1/orders/7").await;
    assert_eq!(first.status(), 200, "{}", first.text());
    let again = send("/api/v1/orders/7").await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json(), first.json());
    assert_error(&send("/api/v1/orders/8").await, 422, "UNPROCESSABLE");
    // Another precondition is another request too.
    let other_version = app
        .request(axum::http::Method::PATCH, "/api/v1/orders/7")
        .bearer(&token)
        .header("idempotency-key", &key)
        .header("if-match", "\"3\"")
        .json(&json!({"item": "green tea"}))
        .send()
        .await;
    assert_error(&other_version, 422, "UNPROCESSABLE");
    assert_eq!(calls.count(), 1);
}

#[tokio::test]
async fn the_same_key_with_another_body_or_path_is_422() {
    for store in STORES {
        let Fixture { app, calls, .. } = fixture(store).await;
        let token = app.token(&[]);
        let key = key();
        let first = post(&app, "/api/v1/orders", &token, Some(&key), "tea").await;
        assert_eq!(first.status(), 201, "{store:?}: {}", first.text());
        let other = post(&app, "/api/v1/orders", &token, Some(&key), "coffee").await;
        assert_error(&other, 422, "UNPROCESSABLE");
        assert_eq!(
            other.json()["error"]["details"][0]["field"],
            "Idempotency-Key"
        );
        // A key names one request: the same body on another endpoint is another request.
        let elsewhere = post(&app, "/api/v1/orders/brief", &token, Some(&key), "tea").await;
        assert_error(&elsewhere, 422, "UNPROCESSABLE");
        assert_eq!(calls.count(), 1, "{store:?}: neither mismatch ran");
    }
}

#[tokio::test]
async fn a_repeat_while_the_first_is_still_running_is_409() {
    for store in STORES {
        let Fixture {
            app, calls, gate, ..
        } = fixture(store).await;
        let token = app.token(&[]);
        let key = key();
        let first = tokio::spawn(
            app.post("/api/v1/orders/gated")
                .bearer(&token)
                .header("idempotency-key", &key)
                .json(&json!({"item": "tea"}))
                .send(),
        );
        // The first holds the key once it is inside the handler.
        gate.entered.notified().await;
        let during = post(&app, "/api/v1/orders/gated", &token, Some(&key), "tea").await;
        assert_error(&during, 409, "CONFLICT");
        // Another body is still a 422, whatever the first is doing.
        let other = post(&app, "/api/v1/orders/gated", &token, Some(&key), "coffee").await;
        assert_error(&other, 422, "UNPROCESSABLE");
        gate.release.notify_one();
        let first = first.await.unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(first.status(), 201, "{store:?}: {}", first.text());
        let after = post(&app, "/api/v1/orders/gated", &token, Some(&key), "tea").await;
        assert_eq!(after.status(), 201, "{store:?}: {}", after.text());
        assert_eq!(after.header("idempotent-replayed"), Some("true"));
        assert_eq!(after.json(), first.json());
        assert_eq!(calls.count(), 1, "{store:?}: only the first ran");
    }
}

#[tokio::test]
async fn a_stored_4xx_is_replayed_under_the_repeat_request_id() {
    let Fixture { app, calls, .. } = fixture(Store::Database(TestBackend::Sqlite)).await;
    let token = app.token(&[]);
    let key = key();
    let send = || {
        app.post("/api/v1/orders")
            .bearer(&token)
            .header("idempotency-key", &key)
            .json(&json!({"item": 7}))
            .send()
    };
    let first = send().await;
    assert_error(&first, 400, "BAD_REQUEST");
    let again = send().await;
    assert_error(&again, 400, "BAD_REQUEST");
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        again.json()["error"]["message"],
        first.json()["error"]["message"]
    );
    let id = again.header("x-request-id").unwrap_or_default();
    assert!(!id.is_empty());
    assert_eq!(
        again.json()["error"]["request_id"],
        id,
        "the repeat's own id"
    );
    assert_ne!(first.json()["error"]["request_id"], id);
    // Byte for byte the first answer, but for the id.
    let first_id = first.json()["error"]["request_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(again.text(), first.text().replace(&first_id, id));
    assert_eq!(calls.count(), 0, "the body was refused before the handler");
}

/// The key is looked at only once the body is bounded: a body over the limit is the body
/// guard's 413, with no record left behind, so the key still names the next request.
#[tokio::test]
async fn an_oversized_body_is_a_413_before_the_key_is_claimed() {
    // With a declared length it is refused before a byte is read; without, while read.
    for declared in [true, false] {
        let Fixture { app, calls, .. } = fixture(Store::Database(TestBackend::Sqlite)).await;
        let token = app.token(&[]);
        let key = key();
        let big = json!({"item": "x".repeat(100)}).to_string();
        let mut request = app
            .post("/api/v1/orders/small")
            .bearer(&token)
            .header("idempotency-key", &key)
            .header("content-type", "application/json")
            .body(big.clone());
        if declared {
            request = request.header("content-length", &big.len().to_string());
        }
        let refused = request.send().await;
        assert_error(&refused, 413, "PAYLOAD_TOO_LARGE");
        let small = post(&app, "/api/v1/orders/small", &token, Some(&key), "tea").await;
        assert_eq!(small.status(), 201, "declared {declared}: {}", small.text());
        assert_eq!(small.header("idempotent-replayed"), None);
        assert_eq!(calls.count(), 1);
    }
}

#[tokio::test]
async fn keys_are_kept_per_user() {
    for store in STORES {
        let Fixture { app, calls, .. } = fixture(store).await;
        let alice = app.token(&[]);
        let bob = app.token(&[]);
        let key = key();
        let hers = post(&app, "/api/v1/orders", &alice, Some(&key), "tea").await;
        assert_eq!(hers.status(), 201, "{store:?}: {}", hers.text());
        let his = post(&app, "/api/v1/orders", &bob, Some(&key), "tea").await;
        assert_eq!(his.status(), 201, "{store:?}: {}", his.text());
        assert_eq!(his.header("idempotent-replayed"), None, "{store:?}");
        assert_eq!(
            his.json()["data"]["number"],
            2,
            "{store:?}: bob's own order"
        );
        assert_eq!(hers.json()["data"]["number"], 1);
        assert_eq!(calls.count(), 2);
    }
}

#[tokio::test]
async fn a_5xx_is_not_kept_so_the_client_may_retry() {
    for store in [Store::Database(TestBackend::Sqlite), Store::Redis] {
        let Fixture { app, calls, .. } = fixture(store).await;
        let token = app.token(&[]);
        let key = key();
        let failed = post(&app, "/api/v1/orders/flaky", &token, Some(&key), "tea").await;
        assert_error(&failed, 500, "INTERNAL");
        let retried = post(&app, "/api/v1/orders/flaky", &token, Some(&key), "tea").await;
        assert_eq!(retried.status(), 201, "{store:?}: {}", retried.text());
        assert_eq!(retried.header("idempotent-replayed"), None);
        let again = post(&app, "/api/v1/orders/flaky", &token, Some(&key), "tea").await;
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(calls.count(), 2, "{store:?}: the failure and the retry ran");
    }
}

/// A request that ends without an answer of its own (a panic; a timeout takes the same path)
/// releases its key: the client got a 5xx and may retry.
#[tokio::test]
async fn a_panic_releases_the_key() {
    for store in [Store::Database(TestBackend::Sqlite), Store::Redis] {
        let Fixture { app, calls, .. } = fixture(store).await;
        let token = app.token(&[]);
        let key = key();
        let failed = post(&app, "/api/v1/orders/panicky", &token, Some(&key), "tea").await;
        assert_error(&failed, 500, "INTERNAL");
        // The release runs as its own task once the request's future is dropped: until it
        // has, the key still reads as running (409).
        let mut retried = post(&app, "/api/v1/orders/panicky", &token, Some(&key), "tea").await;
        for _ in 0..200 {
            if retried.status() != 409 {
                break;
            }
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            retried = post(&app, "/api/v1/orders/panicky", &token, Some(&key), "tea").await;
        }
        assert_eq!(retried.status(), 201, "{store:?}: {}", retried.text());
        assert_eq!(retried.header("idempotent-replayed"), None);
        // Two runs: the panic, and the retry (which counts itself twice: entering, placing).
        assert_eq!(calls.count(), 3, "{store:?}");
    }
}

/// Every stored record's text, whichever store holds it.
async fn stored_records(fixture: &Fixture, store: Store) -> Vec<String> {
    match store {
        Store::Database(_) => {
            let Some(db) = fixture.app.app().db() else {
                return Vec::new();
            };
            let rows: Result<Vec<(String, Option<String>)>, sqlx::Error> =
                rampart::with_pool!(db.primary(), |pool| {
                    sqlx::query_as("SELECT fingerprint, outcome FROM rampart_idempotency")
                        .fetch_all(pool)
                        .await
                });
            rows.unwrap_or_else(|error| panic!("{error}"))
                .into_iter()
                .map(|(fingerprint, outcome)| {
                    format!("{fingerprint} {}", outcome.unwrap_or_default())
                })
                .collect()
        }
        Store::Redis => {
            let client = redis::Client::open(redis_url()).unwrap_or_else(|error| panic!("{error}"));
            let mut connection = client
                .get_multiplexed_async_connection()
                .await
                .unwrap_or_else(|error| panic!("{error}"));
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{}:idem:*", fixture.prefix))
                .query_async(&mut connection)
                .await
                .unwrap_or_else(|error| panic!("{error}"));
            let mut values = Vec::new();
            for key in keys {
                let value: String = redis::cmd("GET")
                    .arg(key)
                    .query_async(&mut connection)
                    .await
                    .unwrap_or_else(|error| panic!("{error}"));
                values.push(value);
            }
            values
        }
    }
}

#[tokio::test]
async fn a_sensitive_answer_is_neither_stored_nor_replayed_nor_run_twice() {
    for store in [Store::Database(TestBackend::Sqlite), Store::Redis] {
        let fixture = fixture(store).await;
        let app = &fixture.app;
        let token = app.token(&[]);
        let key = key();
        let shown = post(app, "/api/v1/secrets", &token, Some(&key), "tea").await;
        assert_eq!(shown.status(), 200, "{store:?}: {}", shown.text());
        assert_eq!(shown.header("cache-control"), Some("no-store"));
        let secret = shown.json()["data"]["secret"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(secret.starts_with("shown-once-1-"), "{secret}");
        let records = stored_records(&fixture, store).await;
        assert_eq!(records.len(), 1, "{store:?}: {records:?}");
        assert!(
            records.iter().all(|record| !record.contains(&secret)
                && !record.contains("shown-once")
                && record.contains("withheld")),
            "{store:?}: only the status is kept: {records:?}"
        );
        let again = post(app, "/api/v1/secrets", &token, Some(&key), "tea").await;
        assert_error(&again, 409, "CONFLICT");
        assert!(!again.text().contains("shown-once"));
        assert_eq!(fixture.calls.count(), 1, "{store:?}: not issued twice");
    }
}

#[tokio::test]
async fn an_answer_is_kept_for_the_declared_ttl_only() {
    for store in [Store::Database(TestBackend::Sqlite), Store::Redis] {
        let Fixture { app, calls, .. } = fixture(store).await;
        let token = app.token(&[]);
        let key = key();
        let first = post(&app, "/api/v1/orders/brief", &token, Some(&key), "tea").await;
        assert_eq!(first.status(), 201, "{store:?}: {}", first.text());
        let replayed = post(&app, "/api/v1/orders/brief", &token, Some(&key), "tea").await;
        assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
        // Past the two seconds the record is gone and the key is a new request again.
        tokio::time::sleep(std::time::Duration::from_millis(2300)).await;
        let later = post(&app, "/api/v1/orders/brief", &token, Some(&key), "tea").await;
        assert_eq!(later.status(), 201, "{store:?}: {}", later.text());
        assert_eq!(later.header("idempotent-replayed"), None, "{store:?}");
        assert_eq!(later.json()["data"]["number"], 2);
        assert_eq!(calls.count(), 2);
    }
}

#[tokio::test]
async fn a_malformed_key_is_a_400_naming_the_header() {
    let Fixture { app, calls, .. } = fixture(Store::Database(TestBackend::Sqlite)).await;
    let token = app.token(&[]);
    let long = "k".repeat(256);
    for (key, issue) in [
        ("", "empty"),
        (long.as_str(), "at most 255 characters"),
        ("two words", "visible ASCII characters only"),
    ] {
        let response = post(&app, "/api/v1/orders", &token, Some(key), "tea").await;
        assert_error(&response, 400, "BAD_REQUEST");
        let detail = &response.json()["error"]["details"][0];
        assert_eq!(detail["field"], "Idempotency-Key", "{key:?}");
        assert_eq!(detail["issue"], issue, "{key:?}");
    }
    let twice = app
        .post("/api/v1/orders")
        .bearer(&token)
        .header("idempotency-key", "a")
        .header("idempotency-key", "b")
        .json(&json!({"item": "tea"}))
        .send()
        .await;
    assert_error(&twice, 400, "BAD_REQUEST");
    let longest = "k".repeat(255);
    let fine = post(&app, "/api/v1/orders", &token, Some(&longest), "tea").await;
    assert_eq!(fine.status(), 201, "{}", fine.text());
    assert_eq!(calls.count(), 1, "only the usable key ran");
}

#[tokio::test]
async fn without_the_header_or_the_marker_requests_run_as_usual() {
    let Fixture { app, calls, .. } = fixture(Store::Database(TestBackend::Sqlite)).await;
    let token = app.token(&[]);
    for _ in 0..2 {
        let response = post(&app, "/api/v1/orders", &token, None, "tea").await;
        assert_eq!(response.status(), 201, "{}", response.text());
    }
    // A key sent to an endpoint that is not idempotent means nothing there (clients that
    // send one on every write keep working): both requests run.
    let key = key();
    for _ in 0..2 {
        let response = post(&app, "/api/v1/orders/plain", &token, Some(&key), "tea").await;
        assert_eq!(response.status(), 201, "{}", response.text());
        assert_eq!(response.header("idempotent-replayed"), None);
    }
    assert_eq!(calls.count(), 4);
}

#[tokio::test]
async fn an_unreachable_redis_refuses_keyed_requests_with_503_and_runs_nothing() {
    let calls = Calls::default();
    // Nothing listens on port 1: every command fails at once.
    let app = TestApp::builder(api())
        .dep(calls.clone())
        .dep(Gate::default())
        .redis("redis://127.0.0.1:1", "rampart-test-down")
        .build()
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let token = app.token(&[]);
    let refused = post(&app, "/api/v1/orders", &token, Some(&key()), "tea").await;
    assert_error(&refused, 503, "UNAVAILABLE");
    assert!(refused.header("retry-after").is_some());
    assert_eq!(calls.count(), 0, "fail closed: the handler did not run");
    let unkeyed = post(&app, "/api/v1/orders", &token, None, "tea").await;
    assert_eq!(unkeyed.status(), 201, "{}", unkeyed.text());
    assert_eq!(calls.count(), 1);
}

/// With both a database and Redis the records go to Redis, unless
/// `RAMPART_IDEMPOTENCY_STORE=database` says otherwise.
#[tokio::test]
async fn the_store_is_redis_when_there_is_one_unless_configured() {
    for choice in [None, Some(rampart::idempotency::StoreChoice::Database)] {
        let calls = Calls::default();
        let prefix = format!("rampart-test-{}", uuid::Uuid::new_v4().simple());
        let app = TestApp::builder(api())
            .dep(calls.clone())
            .dep(Gate::default())
            .backend(TestBackend::Sqlite)
            .redis(redis_url(), &prefix)
            .configure(move |config| config.idempotency_store = choice)
            .build()
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        let token = app.token(&[]);
        let key = key();
        for _ in 0..2 {
            let response = post(&app, "/api/v1/orders", &token, Some(&key), "tea").await;
            assert_eq!(response.status(), 201, "{}", response.text());
        }
        assert_eq!(calls.count(), 1, "{choice:?}");
        let fixture = Fixture {
            app,
            calls,
            gate: Gate::default(),
            prefix,
        };
        let in_db = stored_records(&fixture, Store::Database(TestBackend::Sqlite)).await;
        let in_redis = stored_records(&fixture, Store::Redis).await;
        match choice {
            None => assert_eq!((in_db.len(), in_redis.len()), (0, 1), "Redis by default"),
            Some(_) => assert_eq!((in_db.len(), in_redis.len()), (1, 0), "the database"),
        }
    }
}

/// An app with neither a database nor Redis has nowhere to keep records: keyed requests are
/// refused as if the store were down, the others run.
#[tokio::test]
async fn without_any_store_keyed_requests_are_503() {
    let calls = Calls::default();
    let app = TestApp::builder(Api::new().mount(place_order))
        .dep(calls.clone())
        .build()
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let token = app.token(&[]);
    let refused = post(&app, "/api/v1/orders", &token, Some(&key()), "tea").await;
    assert_error(&refused, 503, "UNAVAILABLE");
    assert_eq!(calls.count(), 0);
    let unkeyed = post(&app, "/api/v1/orders", &token, None, "tea").await;
    assert_eq!(unkeyed.status(), 201, "{}", unkeyed.text());
    assert_eq!(calls.count(), 1);
}

#[test]
fn the_document_shows_the_header_and_the_statuses_on_idempotent_operations_only() {
    let document = api().openapi_json();
    let operation = |path: &str| document["paths"][path]["post"].clone();
    let idempotent = operation("/api/v1/orders");
    let parameters = idempotent["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let header = parameters
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .cloned()
        .unwrap_or_default();
    assert_eq!(header["in"], "header");
    assert_eq!(header["required"], false);
    assert_eq!(header["schema"]["maxLength"], 255);
    for status in ["409", "422"] {
        assert!(
            idempotent["responses"][status]["description"]
                .as_str()
                .is_some_and(|text| text.contains("Idempotency-Key")),
            "{status}: {}",
            idempotent["responses"][status]
        );
    }
    assert!(idempotent["responses"]["201"]["headers"]["Idempotent-Replayed"].is_object());
    let plain = operation("/api/v1/orders/plain");
    assert!(
        plain["parameters"]
            .as_array()
            .is_none_or(|ps| ps.iter().all(|p| p["name"] != "Idempotency-Key")),
        "{plain}"
    );
    assert!(plain["responses"]["409"].is_null());
    assert!(plain["responses"]["422"].is_null());
}

fn counter(metrics: &str, outcome: &str) -> f64 {
    let series =
        format!("rampart_idempotency_total{{endpoint=\"gated_order\",outcome=\"{outcome}\"}}");
    metrics
        .lines()
        .find_map(|line| {
            line.strip_prefix(&series)
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0.0)
}

#[tokio::test]
async fn replays_conflicts_and_mismatches_are_counted() {
    let Fixture { app, gate, .. } = fixture(Store::Database(TestBackend::Sqlite)).await;
    let token = app.token(&[]);
    let before = app.get("/metrics").send().await.text();
    let key = key();
    let first = tokio::spawn(
        app.post("/api/v1/orders/gated")
            .bearer(&token)
            .header("idempotency-key", &key)
            .json(&json!({"item": "tea"}))
            .send(),
    );
    gate.entered.notified().await;
    assert_error(
        &post(&app, "/api/v1/orders/gated", &token, Some(&key), "tea").await,
        409,
        "CONFLICT",
    );
    gate.release.notify_one();
    let first = first.await.unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(first.status(), 201);
    assert_error(
        &post(&app, "/api/v1/orders/gated", &token, Some(&key), "coffee").await,
        422,
        "UNPROCESSABLE",
    );
    let replay = post(&app, "/api/v1/orders/gated", &token, Some(&key), "tea").await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    let after = app.get("/metrics").send().await.text();
    for outcome in ["stored", "conflict", "mismatch", "replayed"] {
        assert!(
            counter(&after, outcome) >= counter(&before, outcome) + 1.0,
            "{outcome}: {} -> {}",
            counter(&before, outcome),
            counter(&after, outcome)
        );
    }
}

/// The taskboard's `POST /projects/{id}/tasks` is idempotent: the rows prove one insert.
#[tokio::test]
async fn the_taskboard_adds_one_task_for_a_repeated_key() {
    for backend in BACKENDS {
        let app = crate::common::taskboard(backend).await;
        let token = app.token(&["member"]);
        let project = app
            .post("/api/v1/projects")
            .bearer(&token)
            .json(&json!({"name": "errands"}))
            .send()
            .await;
        assert_eq!(project.status(), 201, "{}", project.text());
        let id = project.json()["data"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let path = format!("/api/v1/projects/{id}/tasks");
        let key = key();
        let mut answers = Vec::new();
        for _ in 0..3 {
            let created = app
                .post(&path)
                .bearer(&token)
                .header("idempotency-key", &key)
                .json(&json!({"title": "milk"}))
                .send()
                .await;
            assert_eq!(created.status(), 201, "{backend:?}: {}", created.text());
            answers.push(created.json()["data"]["id"].clone());
        }
        assert!(answers.iter().all(|id| *id == answers[0]), "{answers:?}");
        let listed = app.get(&path).bearer(&token).send().await;
        assert_eq!(listed.status(), 200, "{}", listed.text());
        assert_eq!(
            listed.json()["data"].as_array().map(Vec::len),
            Some(1),
            "{backend:?}: one row"
        );
    }
}

/// Waits (at most 10 s) until the handlers ran `n` times.
async fn ran(calls: &Calls, n: usize) {
    for _ in 0..200 {
        if calls.count() >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Posts with `key` until the answer is no longer the 409 of a request still running (at most
/// 5 s): the first request settles its record just after its handler returns.
async fn settled(app: &TestApp, path: &str, token: &str, key: &str, item: &str) -> TestResponse {
    let mut answer = post(app, path, token, Some(key), item).await;
    for _ in 0..100 {
        if answer.status() != 409 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        answer = post(app, path, token, Some(key), item).await;
    }
    answer
}

/// A request that times out, or whose client goes away, may have written already: its
/// handler runs to its end and the answer is kept, so the retry is a replay (409 while it
/// still runs), never a second run.
#[tokio::test]
async fn a_timed_out_or_abandoned_request_runs_once_and_its_answer_is_kept() {
    let Fixture {
        app, calls, gate, ..
    } = fixture(Store::Database(TestBackend::Sqlite)).await;
    let token = app.token(&[]);

    // The request's timeout answers 503 while the handler waits.
    let key_one = key();
    let first = tokio::spawn(
        app.post("/api/v1/orders/gated-brief")
            .bearer(&token)
            .header("idempotency-key", &key_one)
            .json(&json!({"item": "tea"}))
            .send(),
    );
    gate.entered.notified().await;
    let first = first.await.unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(first.status(), 503, "{}", first.text());
    let during = post(
        &app,
        "/api/v1/orders/gated-brief",
        &token,
        Some(&key_one),
        "tea",
    )
    .await;
    assert_error(&during, 409, "CONFLICT");
    assert_eq!(during.header("retry-after"), Some("1"));
    gate.release.notify_one();
    ran(&calls, 1).await;
    let after = settled(&app, "/api/v1/orders/gated-brief", &token, &key_one, "tea").await;
    assert_eq!(after.status(), 201, "{}", after.text());
    assert_eq!(after.header("idempotent-replayed"), Some("true"));
    assert_eq!(after.json()["data"]["number"], 1);
    assert_eq!(calls.count(), 1, "the timed-out request ran once");

    // A client that goes away: its request future is dropped mid-handler.
    let key_two = key();
    let abandoned = tokio::spawn(
        app.post("/api/v1/orders/gated")
            .bearer(&token)
            .header("idempotency-key", &key_two)
            .json(&json!({"item": "coffee"}))
            .send(),
    );
    gate.entered.notified().await;
    abandoned.abort();
    let _ = abandoned.await;
    gate.release.notify_one();
    ran(&calls, 2).await;
    let retry = settled(&app, "/api/v1/orders/gated", &token, &key_two, "coffee").await;
    assert_eq!(retry.status(), 201, "{}", retry.text());
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        calls.count(),
        2,
        "the abandoned request ran once, the retry not at all"
    );
}

/// An API key may hold fewer roles than its owner: its records are its own, so an answer made
/// under the owner's token is not replayed to the key.
#[tokio::test]
async fn an_api_key_does_not_share_records_with_its_owners_token() {
    let calls = Calls::default();
    let api = rampart::identity::mount(api(), rampart::rbac!());
    let app = TestApp::builder(api)
        .dep(calls.clone())
        .dep(Gate::default())
        .backend(TestBackend::Sqlite)
        .with_identity()
        .build()
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let token = crate::common::account(&app, "k").await.access;
    let api_key = crate::common::create_api_key(&app, &token, "integration").await;
    assert!(!api_key.is_empty());
    let key = key();
    let by_token = post(&app, "/api/v1/orders", &token, Some(&key), "tea").await;
    assert_eq!(by_token.status(), 201, "{}", by_token.text());
    let by_key = app
        .post("/api/v1/orders")
        .header("x-api-key", &api_key)
        .header("idempotency-key", &key)
        .json(&json!({"item": "tea"}))
        .send()
        .await;
    assert_eq!(by_key.status(), 201, "{}", by_key.text());
    assert_eq!(
        by_key.header("idempotent-replayed"),
        None,
        "not the token's answer"
    );
    assert_eq!(calls.count(), 2);
    let again = app
        .post("/api/v1/orders")
        .header("x-api-key", &api_key)
        .header("idempotency-key", &key)
        .json(&json!({"item": "tea"}))
        .send()
        .await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(calls.count(), 2);
}
