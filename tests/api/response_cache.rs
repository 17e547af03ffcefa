//! The response cache of `cache(..)` endpoints through the real router, on SQLite and
//! PostgreSQL, alone and with Redis shared by two instances: a cold key is computed once for
//! 500 concurrent requests (counted by the handler), on one instance and across two; a write
//! through a resource's store or an `invalidates` endpoint makes the next read fresh, on the
//! other instance too; a read racing a write is answered but not stored; a matching
//! `If-None-Match` is a 304 without running the handler; entries are per caller unless
//! `shared`; a public endpoint's entry answers while the server sheds load; Redis stopped
//! leaves the in-process tier, for at most 5 s.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rampart::prelude::*;
use rampart::testing::{TestApp, TestAppBuilder, TestBackend, TestResponse};
use serde::Serialize;
use serde_json::json;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::common::taskboard_builder_for;
use crate::taskboard::projects::Project;

use crate::common::Calls;

/// Holds the cached handlers, once armed, until the test lets them go.
#[derive(Debug, Clone, Default)]
struct Gate {
    armed: Arc<AtomicBool>,
    entered: Arc<Notify>,
    release: Arc<Notify>,
}

impl Gate {
    async fn pass(&self) {
        if self.armed.swap(false, Ordering::SeqCst) {
            self.entered.notify_one();
            self.release.notified().await;
        }
    }
}

#[derive(Debug, Serialize, Schema)]
struct Names {
    /// Which computation this is.
    computed: usize,
    names: Vec<String>,
}

/// The caller's project names, through the store, counted.
#[endpoint(
    get = "/cached/projects",
    role = "member",
    cache(ttl = "60s", tags = ["projects"])
)]
async fn cached_projects(
    ctx: Ctx,
    calls: Dep<Calls>,
    gate: Dep<Gate>,
    projects: crate::taskboard::projects::ProjectRepo,
    query: ListQuery<Project>,
) -> ApiResult<Names> {
    let computed = calls.next();
    let page = projects.list(&ctx.scope()?, &query).await?;
    // Read, then held: a write the test makes now is not in this answer.
    gate.pass().await;
    Ok(Names {
        computed,
        names: page.items.into_iter().map(|p| p.name).collect(),
    })
}

/// A public aggregate, counted.
#[endpoint(get = "/cached/public", public, cache(ttl = "60s", tags = []))]
async fn cached_public(calls: Dep<Calls>, gate: Dep<Gate>) -> ApiResult<Names> {
    let computed = calls.next();
    gate.pass().await;
    Ok(Names {
        computed,
        names: Vec::new(),
    })
}

/// A public read without a cache, held like the others.
#[endpoint(get = "/uncached/public", public)]
async fn uncached_public(gate: Dep<Gate>) -> ApiResult<Names> {
    gate.pass().await;
    Ok(Names {
        computed: 0,
        names: Vec::new(),
    })
}

fn api() -> Api {
    crate::taskboard::api()
        .mount(cached_projects)
        .mount(cached_public)
        .mount(uncached_public)
}

fn builder(calls: &Calls, gate: &Gate) -> TestAppBuilder {
    taskboard_builder_for(api())
        .migrations(crate::taskboard::MIGRATIONS)
        .with_identity()
        .dep(calls.clone())
        .dep(gate.clone())
        // 500 requests of one user at once are the point here, not a flood to cut.
        .configure(|config| {
            config.max_concurrency = 2048;
            config.max_in_flight_per_principal = 1024;
        })
}

async fn build(builder: TestAppBuilder) -> TestApp {
    builder.build().await.unwrap_or_else(|e| panic!("{e}"))
}

/// Two instances of the app on one PostgreSQL database, sharing a Redis prefix.
async fn two_instances(calls: &Calls, gate: &Gate) -> (TestApp, TestApp) {
    let prefix = prefix();
    let first = build(
        builder(calls, gate)
            .backend(TestBackend::Postgres)
            .redis(redis_url(), &prefix),
    )
    .await;
    let url = first.app().config().database.url.clone();
    let second = build(
        builder(calls, gate)
            .database_url(url)
            .redis(redis_url(), &prefix),
    )
    .await;
    (first, second)
}

fn redis_url() -> String {
    std::env::var("RAMPART_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn prefix() -> String {
    format!("rampart-test-cache-{}", Uuid::new_v4().simple())
}

fn cache_status(response: &TestResponse) -> &str {
    response.header("cache-status").unwrap_or("")
}

fn is_hit(response: &TestResponse) -> bool {
    cache_status(response).starts_with("rampart; hit; ttl=")
}

async fn create_project(app: &TestApp, token: &str, name: &str) {
    let created = app
        .post("/api/v1/projects")
        .bearer(token)
        .json(&json!({ "name": name }))
        .send()
        .await;
    assert_eq!(created.status(), 201, "{}", created.text());
}

async fn names(app: &TestApp, token: &str) -> (TestResponse, Vec<String>) {
    let response = app
        .get("/api/v1/cached/projects")
        .bearer(token)
        .send()
        .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    let mut names: Vec<String> = response.json()["data"]["names"]
        .as_array()
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    (response, names)
}

/// 500 concurrent requests for one cold key, the first held in the handler until all are
/// sent: the handler runs once and every request gets its answer.
async fn stampede(apps: &[&TestApp], token: &str, calls: &Calls, gate: &Gate) -> Vec<String> {
    gate.armed.store(true, Ordering::SeqCst);
    let mut requests = Vec::new();
    for n in 0..500 {
        let request = apps[n % apps.len()]
            .get("/api/v1/cached/projects")
            .bearer(token);
        requests.push(tokio::spawn(request.send()));
        if n == 0 {
            gate.entered.notified().await;
        }
    }
    // Let the rest reach the cache before the first answers (the count below holds whatever
    // the timing; this only makes the waiting, not the hits, what most of them do).
    tokio::time::sleep(Duration::from_millis(200)).await;
    gate.release.notify_one();
    let mut statuses = Vec::new();
    for request in requests {
        let response = request.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(
            response.json()["data"]["computed"],
            1,
            "{}",
            response.text()
        );
        statuses.push(cache_status(&response).to_owned());
    }
    assert_eq!(calls.count(), 1, "the handler ran once for 500 requests");
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_key_is_computed_once_for_500_concurrent_requests() {
    let (calls, gate) = (Calls::default(), Gate::default());
    let app = build(builder(&calls, &gate).backend(TestBackend::Sqlite)).await;
    let token = app.token(&["member"]);
    let statuses = stampede(&[&app], &token, &calls, &gate).await;
    let collapsed = statuses.iter().filter(|s| s.contains("collapsed")).count();
    let stored = statuses.iter().filter(|s| s.contains("stored")).count();
    assert_eq!(stored, 1, "one request computed and stored: {statuses:?}");
    assert!(collapsed >= 1, "some waited for it: {statuses:?}");
    let metrics = app.get("/metrics").send().await.text();
    assert!(
        metrics
            .lines()
            .any(|line| line.starts_with("rampart_cache_total")
                && line.contains("endpoint=\"cached_projects\"")
                && line.contains("outcome=\"collapsed\"")),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_key_is_computed_once_across_two_instances_sharing_redis() {
    let (calls, gate) = (Calls::default(), Gate::default());
    let (first, second) = two_instances(&calls, &gate).await;
    let token = first.token(&["member"]);
    let statuses = stampede(&[&first, &second], &token, &calls, &gate).await;
    assert_eq!(
        statuses.iter().filter(|s| s.contains("stored")).count(),
        1,
        "{statuses:?}"
    );
}

/// A write through the resource's store on one instance; the next read on the other is
/// fresh (Redis carries the tag's new version), and so is the writer's own.
#[tokio::test]
async fn a_write_on_one_instance_makes_the_next_read_on_the_other_fresh() {
    let (calls, gate) = (Calls::default(), Gate::default());
    let (first, second) = two_instances(&calls, &gate).await;
    let token = first.token(&["member"]);
    create_project(&first, &token, "one").await;
    assert_eq!(names(&first, &token).await.1, ["one"]);
    let (on_second, listed) = names(&second, &token).await;
    assert_eq!(listed, ["one"]);
    assert!(is_hit(&on_second), "shared through Redis: {on_second:?}");

    create_project(&first, &token, "two").await;
    assert_eq!(names(&second, &token).await.1, ["one", "two"]);
    create_project(&second, &token, "three").await;
    assert_eq!(names(&first, &token).await.1, ["one", "three", "two"]);
    assert_eq!(names(&second, &token).await.1, ["one", "three", "two"]);
}

/// Alone, on each backend: the entry answers until a write; a matching `If-None-Match` is a
/// 304 without running the handler.
#[tokio::test]
async fn entries_answer_until_a_write_and_revalidate_to_304_without_the_handler() {
    for backend in rampart::testing::BACKENDS {
        let (calls, gate) = (Calls::default(), Gate::default());
        let app = build(builder(&calls, &gate).backend(backend)).await;
        let token = app.token(&["member"]);
        create_project(&app, &token, "one").await;
        let (first, _) = names(&app, &token).await;
        assert!(cache_status(&first).contains("stored"), "{first:?}");
        assert_eq!(first.header("age"), Some("0"));
        assert_eq!(first.header("cache-control"), Some("private, no-cache"));
        let (again, listed) = names(&app, &token).await;
        assert!(is_hit(&again), "{backend:?}: {again:?}");
        assert_eq!(listed, ["one"]);
        assert_eq!(again.text(), first.text(), "a hit is the stored answer");
        assert_eq!(calls.count(), 1);

        let etag = again.header("etag").unwrap_or_default().to_owned();
        let revalidated = app
            .get("/api/v1/cached/projects")
            .bearer(&token)
            .header("if-none-match", &etag)
            .send()
            .await;
        assert_eq!(revalidated.status(), 304, "{backend:?}");
        assert!(revalidated.text().is_empty());
        assert_eq!(calls.count(), 1, "{backend:?}: the 304 ran nothing");

        create_project(&app, &token, "two").await;
        let (after, listed) = names(&app, &token).await;
        assert!(!is_hit(&after), "{backend:?}: the write made it stale");
        assert_eq!(listed, ["one", "two"]);
        assert_eq!(calls.count(), 2);
        let stale_tag = app
            .get("/api/v1/cached/projects")
            .bearer(&token)
            .header("if-none-match", &etag)
            .send()
            .await;
        assert_eq!(
            stale_tag.status(),
            200,
            "{backend:?}: the old tag is not current"
        );
    }
}

/// A read that computed before a write committed and answers after it: its answer is not
/// stored, so the next read runs again and sees the write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_racing_a_write_is_answered_but_never_stored_as_fresh() {
    for redis in [false, true] {
        let (calls, gate) = (Calls::default(), Gate::default());
        let mut builder = builder(&calls, &gate).backend(TestBackend::Postgres);
        if redis {
            builder = builder.redis(redis_url(), prefix());
        }
        let app = Arc::new(build(builder).await);
        let token = app.token(&["member"]);
        create_project(&app, &token, "before").await;
        gate.armed.store(true, Ordering::SeqCst);
        let racing = {
            let (app, token) = (app.clone(), token.clone());
            tokio::spawn(async move { names(&app, &token).await })
        };
        gate.entered.notified().await;
        // The reader has read; the write commits and bumps the tag before it answers.
        create_project(&app, &token, "during").await;
        gate.release.notify_one();
        let (raced, listed) = racing.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(listed, ["before"], "what it read");
        assert_eq!(
            cache_status(&raced),
            "rampart; fwd=miss",
            "answered, not stored: {raced:?}"
        );
        let (next, listed) = names(&app, &token).await;
        assert_eq!(listed, ["before", "during"], "redis: {redis}");
        assert!(cache_status(&next).contains("stored"), "{next:?}");
        assert_eq!(calls.count(), 2);
    }
}

/// Per caller: another user, and the same user through an API key, never get the entry.
#[tokio::test]
async fn a_per_caller_entry_is_never_answered_to_another_caller() {
    let (calls, gate) = (Calls::default(), Gate::default());
    let app = build(builder(&calls, &gate).backend(TestBackend::Sqlite)).await;
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let alice_token = app.token_for(alice, &["member"]);
    let bob_token = app.token_for(bob, &["member"]);
    let alice_editor = app.token_for(alice, &["member", "editor"]);
    create_project(&app, &alice_token, "alice's").await;
    assert_eq!(names(&app, &alice_token).await.1, ["alice's"]);
    let (bobs, listed) = names(&app, &bob_token).await;
    assert!(listed.is_empty(), "bob sees none of alice's: {listed:?}");
    assert!(!is_hit(&bobs));
    // Alice with other roles is another entry (roles can change what a handler shows).
    let (other_roles, _) = names(&app, &alice_editor).await;
    assert!(!is_hit(&other_roles), "{other_roles:?}");
    assert_eq!(calls.count(), 3);
}

/// The same user through an API key is another caller: a key may hold fewer roles than its
/// owner's token, so neither is answered from the other's entry.
#[tokio::test]
async fn an_api_key_and_its_owners_token_do_not_share_an_entry() {
    let (calls, gate) = (Calls::default(), Gate::default());
    let app = build(builder(&calls, &gate).backend(TestBackend::Sqlite)).await;
    let password = "correct horse battery staple";
    let registered = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": "cache@example.com", "password": password, "display_name": "C"}))
        .send()
        .await;
    assert_eq!(registered.status(), 201, "{}", registered.text());
    let login = app
        .post("/api/v1/auth/login")
        .json(&json!({"email": "cache@example.com", "password": password}))
        .send()
        .await;
    assert_eq!(login.status(), 200, "{}", login.text());
    let token = login.json()["data"]["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let key = crate::common::create_api_key(&app, &token, "reader").await;
    create_project(&app, &token, "mine").await;
    assert_eq!(names(&app, &token).await.1, ["mine"]);
    let by_key = app
        .get("/api/v1/cached/projects")
        .header("x-api-key", &key)
        .send()
        .await;
    assert_eq!(by_key.status(), 200, "{}", by_key.text());
    assert!(!is_hit(&by_key), "the key's own entry: {by_key:?}");
    assert_eq!(calls.count(), 2);
}

/// `GET /stats` is `shared`: one entry for every holder of `stats:read`, refused (403) to a
/// caller without it even while the entry is fresh; a note written (`invalidates`) makes it
/// stale at once.
#[tokio::test]
async fn a_shared_entry_answers_every_admitted_caller_and_no_one_else() {
    let (calls, gate) = (Calls::default(), Gate::default());
    let app = build(builder(&calls, &gate).backend(TestBackend::Sqlite)).await;
    let auditor = app.token(&["auditor"]);
    let other_auditor = app.token(&["auditor"]);
    let member = app.token(&["member"]);
    let first = app.get("/api/v1/stats").bearer(&auditor).send().await;
    assert_eq!(first.status(), 200, "{}", first.text());
    assert_eq!(first.json()["data"]["notes"], 0);
    let second = app.get("/api/v1/stats").bearer(&other_auditor).send().await;
    assert!(is_hit(&second), "another admitted caller: {second:?}");
    let refused = app.get("/api/v1/stats").bearer(&member).send().await;
    crate::common::assert_error(&refused, 403, "FORBIDDEN");
    let note = app
        .post("/api/v1/notes")
        .bearer(&member)
        .json(&json!({"title": "counted"}))
        .send()
        .await;
    assert_eq!(note.status(), 201, "{}", note.text());
    let after = app.get("/api/v1/stats").bearer(&other_auditor).send().await;
    assert!(!is_hit(&after), "{after:?}");
    assert_eq!(
        after.json()["data"]["notes"],
        1,
        "what was stored is what is answered"
    );
}

/// A write in a transaction (archiving a project and its tasks) makes the generated,
/// per-caller cached reads stale once it commits.
#[tokio::test]
async fn a_transaction_makes_the_generated_cached_reads_stale_when_it_commits() {
    let (calls, gate) = (Calls::default(), Gate::default());
    let app = build(builder(&calls, &gate).backend(TestBackend::Postgres)).await;
    let token = app.token(&["member"]);
    let created = app
        .post("/api/v1/projects")
        .bearer(&token)
        .json(&json!({"name": "to archive"}))
        .send()
        .await;
    assert_eq!(created.status(), 201, "{}", created.text());
    let id = created.json()["data"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let path = format!("/api/v1/projects/{id}");
    let read = app.get(&path).bearer(&token).send().await;
    assert_eq!(read.json()["data"]["archived"], false);
    assert!(is_hit(&app.get(&path).bearer(&token).send().await));
    let list = app.get("/api/v1/projects").bearer(&token).send().await;
    assert_eq!(list.status(), 200);
    let archived = app
        .post(&format!("{path}/archive"))
        .bearer(&token)
        .send()
        .await;
    assert_eq!(archived.status(), 200, "{}", archived.text());
    let read = app.get(&path).bearer(&token).send().await;
    assert!(!is_hit(&read), "{read:?}");
    assert_eq!(read.json()["data"]["archived"], true);
    let list = app.get("/api/v1/projects").bearer(&token).send().await;
    assert!(!is_hit(&list));
    assert_eq!(list.json()["data"][0]["archived"], true);
}

/// Every query parameter the endpoint documents is part of the key: changing any one of
/// them is a miss, never the entry of the request without it.
#[tokio::test]
async fn changing_any_query_parameter_misses() {
    let (calls, gate) = (Calls::default(), Gate::default());
    let app = build(builder(&calls, &gate).backend(TestBackend::Sqlite)).await;
    let token = app.token(&["member"]);
    let document = app.get("/openapi.json").send().await.json();
    let parameters = document["paths"]["/api/v1/cached/projects"]["get"]["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let query: Vec<(String, serde_json::Value)> = parameters
        .iter()
        .filter(|p| p["in"] == "query")
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default().to_owned(),
                p["schema"].clone(),
            )
        })
        .collect();
    assert!(
        query.len() >= 4,
        "the list's filters, sort and page: {query:?}"
    );
    let base = "/api/v1/cached/projects";
    let first = app.get(base).bearer(&token).send().await;
    assert_eq!(first.status(), 200);
    assert!(is_hit(&app.get(base).bearer(&token).send().await));
    for (name, schema) in &query {
        let value = sample(name, schema);
        let path = format!("{base}?{name}={value}");
        let before = calls.count();
        let response = app.get(&path).bearer(&token).send().await;
        assert_eq!(
            response.status(),
            200,
            "{path}: a value the parameter takes: {}",
            response.text()
        );
        assert!(
            !is_hit(&response),
            "{path} answered from the entry without it: {response:?}"
        );
        assert_eq!(calls.count(), before + 1, "{path} ran the handler");
        // The same parameter again is its own entry, and a hit.
        let again = app.get(&path).bearer(&token).send().await;
        assert!(is_hit(&again), "{path}: {again:?}");
    }
}

/// A value a parameter accepts, from its schema.
fn sample(name: &str, schema: &serde_json::Value) -> String {
    if let Some(value) = schema["enum"].as_array().and_then(|values| values.last()) {
        return value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned);
    }
    let kind = schema["type"]
        .as_str()
        .or_else(|| schema["type"].as_array().and_then(|t| t[0].as_str()))
        .unwrap_or("string");
    match (schema["format"].as_str(), kind) {
        (_, "integer") => "2".to_owned(),
        (_, "boolean") => "true".to_owned(),
        (Some("uuid"), _) => Uuid::nil().to_string(),
        (Some("date-time"), _) => "2026-01-01T00:00:00Z".to_owned(),
        _ if name == "sort" => "name".to_owned(),
        _ => "x".to_owned(),
    }
}

/// While the server sheds load, an anonymous GET of a public cached endpoint is answered
/// from its entry; an endpoint without a cache still answers 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_entry_answers_while_the_server_sheds_load() {
    let (calls, gate) = (Calls::default(), Gate::default());
    let app = Arc::new(
        build(
            builder(&calls, &gate)
                .backend(TestBackend::Sqlite)
                .configure(|config| config.max_concurrency = 1),
        )
        .await,
    );
    let first = app.get("/api/v1/cached/public").send().await;
    assert!(cache_status(&first).contains("stored"), "{first:?}");
    assert!(
        first
            .header("cache-control")
            .is_some_and(|c| c.starts_with("public, max-age=")),
        "{first:?}"
    );
    // One request holds the only place.
    gate.armed.store(true, Ordering::SeqCst);
    let holder = {
        let app = app.clone();
        tokio::spawn(async move { app.get("/api/v1/uncached/public").send().await })
    };
    gate.entered.notified().await;
    let cached = app.get("/api/v1/cached/public").send().await;
    assert_eq!(cached.status(), 200, "{}", cached.text());
    assert_eq!(cached.json()["data"]["computed"], 1);
    let uncached = app.get("/api/v1/info/missing-route-is-404").send().await;
    assert_eq!(uncached.status(), 404);
    let refused = app.get("/api/v1/uncached/public").send().await;
    crate::common::assert_error(&refused, 503, "UNAVAILABLE");
    // With credentials the request is not answered from the shared entry: it is shed.
    let token = app.token(&["member"]);
    let credentialed = app.get("/api/v1/cached/public").bearer(&token).send().await;
    crate::common::assert_error(&credentialed, 503, "UNAVAILABLE");
    gate.release.notify_one();
    let held = holder.await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(held.status(), 200);
    assert_eq!(calls.count(), 1);
}

/// Redis stopped: requests are answered (no 5xx), from the in-process tier for at most 5 s,
/// and this instance's own writes still make its entries stale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_stopped_the_in_process_tier_answers_for_a_few_seconds() {
    let dir = std::env::temp_dir().join(format!("rampart-redis-{}", Uuid::new_v4().simple()));
    let _ = std::fs::create_dir_all(&dir);
    let _cleanup = crate::jobs_redis::RemoveOnDrop(dir.clone());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(56379);
    let mut redis = crate::jobs_redis::OwnRedis::start(port, &dir);
    let (calls, gate) = (Calls::default(), Gate::default());
    let app = build(
        builder(&calls, &gate)
            .backend(TestBackend::Sqlite)
            .redis(redis.url(), prefix()),
    )
    .await;
    let token = app.token(&["member"]);
    create_project(&app, &token, "one").await;
    names(&app, &token).await;
    assert!(is_hit(&names(&app, &token).await.0));
    redis.kill();

    let (during, listed) = names(&app, &token).await;
    assert_eq!(listed, ["one"]);
    assert!(
        is_hit(&during),
        "the in-process entry, young enough: {during:?}"
    );
    create_project(&app, &token, "two").await;
    let (after_write, listed) = names(&app, &token).await;
    assert_eq!(listed, ["one", "two"], "this instance's write is known");
    assert!(!is_hit(&after_write));
    let computed = calls.count();
    tokio::time::sleep(rampart::cache::DEGRADED_MAX_AGE + Duration::from_millis(300)).await;
    let (late, _) = names(&app, &token).await;
    assert!(
        !is_hit(&late),
        "older than the bound: computed again: {late:?}"
    );
    assert_eq!(calls.count(), computed + 1);
}

/// The database stopped (a dedicated cluster): a cached endpoint answers 200 from its last
/// entry, marked stale with its `Age`, even one a write made stale; an uncached one answers 503.
#[tokio::test]
async fn with_the_database_stopped_a_cached_endpoint_answers_stale_and_an_uncached_one_503() {
    let cluster = crate::cluster::Cluster::create();
    let (calls, gate) = (Calls::default(), Gate::default());
    let app = build(
        builder(&calls, &gate)
            .database_url(cluster.url())
            .configure(|config| config.database.acquire_timeout = Duration::from_secs(1)),
    )
    .await;
    let auditor = app.token(&["auditor"]);
    let member = app.token(&["member"]);
    let first = app.get("/api/v1/stats").bearer(&auditor).send().await;
    assert_eq!(first.status(), 200, "{}", first.text());
    assert_eq!(first.json()["data"]["notes"], 0);
    let note = app
        .post("/api/v1/notes")
        .bearer(&member)
        .json(&json!({"title": "the last write"}))
        .send()
        .await;
    assert_eq!(note.status(), 201, "{}", note.text());

    assert!(cluster.stop(), "could not stop the dedicated cluster");
    let stale = app.get("/api/v1/stats").bearer(&auditor).send().await;
    assert_eq!(stale.status(), 200, "{}", stale.text());
    assert_eq!(cache_status(&stale), "rampart; hit; detail=stale");
    assert!(
        stale
            .header("age")
            .is_some_and(|age| age.parse::<u64>().is_ok())
    );
    assert_eq!(stale.json()["data"]["notes"], 0, "the last good answer");
    let uncached = app.get("/api/v1/notes").bearer(&member).send().await;
    crate::common::assert_error(&uncached, 503, "UNAVAILABLE");
    let metrics = app.get("/metrics").send().await.text();
    assert!(
        metrics
            .lines()
            .any(|line| line.starts_with("rampart_cache_total")
                && line.contains("endpoint=\"note_stats\"")
                && line.contains("outcome=\"stale\"")),
        "{metrics}"
    );
    assert!(cluster.start(), "could not restart the dedicated cluster");
}
