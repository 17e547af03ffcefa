//! Serialisation failures and deadlocks through the framework: a transaction run with
//! `Store::transaction` that loses a real conflict runs again and the end result is consistent;
//! one that keeps losing is a 409 `CONFLICT` the client can retry; so is a lost conflict under
//! the old `begin()`/`commit()` API and a single statement outside a transaction. Never a 500.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use rampart::prelude::*;
use rampart::resource::{Target, Value};
use rampart::testing::{BACKENDS, TestApp, TestBackend};
use rampart::{Isolation, Store};
use serde_json::json;
use tokio::sync::Barrier;
use uuid::Uuid;

use crate::common::assert_error;
use crate::taskboard::projects::Project;

#[derive(Debug, serde::Serialize, Schema)]
struct Outcome {
    /// Whether this request put its project on call.
    took: bool,
}

/// Both requests of a pair meet here on their first run only, so their reads overlap their
/// writes; a run again after a conflict does not wait (a lost wait times out, never hangs).
async fn meet(barrier: &'static OnceLock<Barrier>) {
    let barrier = barrier.get_or_init(|| Barrier::new(2));
    let _ = tokio::time::timeout(Duration::from_secs(5), barrier.wait()).await;
}

static ON_CALL_RUNS: AtomicU32 = AtomicU32::new(0);
static ON_CALL_MEET: OnceLock<Barrier> = OnceLock::new();

/// The classic write skew: "at most one of an owner's projects is on call", checked by reading
/// and enforced by writing, in a serialisable transaction.
#[endpoint(post = "/tx/on-call/{id}", public)]
async fn take_on_call(store: Store<Project>, Path(id): Path<Uuid>) -> ApiResult<Outcome> {
    let mut runs = 0;
    store
        .transaction_with(Isolation::Serializable, |tx| {
            runs += 1;
            let first = runs == 1;
            let store = store.in_tx(&tx);
            async move {
                ON_CALL_RUNS.fetch_add(1, Ordering::SeqCst);
                let taken = store
                    .fetch_scalar(
                        "tx.on_call.count",
                        Target::Write,
                        "SELECT COUNT(*) FROM projects WHERE description = 'on call' \
                         AND owner_id = (SELECT owner_id FROM projects WHERE id = $1)",
                        vec![Value::Uuid(id)],
                    )
                    .await?;
                if first {
                    meet(&ON_CALL_MEET).await;
                }
                if taken > 0 {
                    return Ok(Outcome { took: false });
                }
                store
                    .execute(
                        "tx.on_call.take",
                        "UPDATE projects SET description = 'on call' WHERE id = $1",
                        vec![Value::Uuid(id)],
                    )
                    .await?;
                Ok(Outcome { took: true })
            }
        })
        .await
}

static DEADLOCK_RUNS: AtomicU32 = AtomicU32::new(0);
static DEADLOCK_MEET: OnceLock<Barrier> = OnceLock::new();

/// Locks its project, then every other project of the same owner: two of these on two
/// projects at once lock in opposite orders, and PostgreSQL breaks the deadlock (40P01).
#[endpoint(post = "/tx/lock/{id}", public)]
async fn lock_both(store: Store<Project>, Path(id): Path<Uuid>) -> ApiResult<Outcome> {
    let mut runs = 0;
    store
        .transaction(|tx| {
            runs += 1;
            let first = runs == 1;
            let store = store.in_tx(&tx);
            async move {
                DEADLOCK_RUNS.fetch_add(1, Ordering::SeqCst);
                store
                    .execute(
                        "tx.lock.own",
                        "UPDATE projects SET description = 'locked by ' || CAST($1 AS TEXT) \
                         WHERE id = $1",
                        vec![Value::Uuid(id)],
                    )
                    .await?;
                if first {
                    meet(&DEADLOCK_MEET).await;
                }
                store
                    .execute(
                        "tx.lock.others",
                        "UPDATE projects SET description = 'locked by ' || CAST($1 AS TEXT) \
                         WHERE id <> $1 AND owner_id = (SELECT owner_id FROM projects WHERE id = $1)",
                        vec![Value::Uuid(id)],
                    )
                    .await?;
                Ok(Outcome { took: true })
            }
        })
        .await
}

async fn app(backend: TestBackend) -> TestApp {
    let api = crate::taskboard::api()
        .mount(take_on_call)
        .mount(lock_both)
        .mount(always_conflicts)
        .mount(conflicts_under_begin)
        .mount(conflicting_statement);
    let app = crate::common::taskboard_builder_for(api)
        .backend(backend)
        .migrations(crate::taskboard::MIGRATIONS)
        .build()
        .await;
    match app {
        Ok(app) => app,
        Err(error) => panic!("{error}"),
    }
}

async fn two_projects(app: &TestApp) -> (Uuid, Uuid) {
    let token = app.token(&["member"]);
    let mut ids = Vec::new();
    for name in ["first", "second"] {
        let created = app
            .post("/api/v1/projects")
            .bearer(&token)
            .json(&json!({"name": name}))
            .send()
            .await;
        assert_eq!(created.status(), 201, "{}", created.text());
        let id = created.json()["data"]["id"]
            .as_str()
            .and_then(|s| s.parse().ok());
        ids.push(id.unwrap_or_else(|| panic!("no id: {}", created.text())));
    }
    (ids[0], ids[1])
}

async fn descriptions(app: &TestApp, ids: [Uuid; 2]) -> Vec<Option<String>> {
    let db = app.app().db().cloned();
    let db = db.unwrap_or_else(|| panic!("no database"));
    let mut out = Vec::new();
    for id in ids {
        let value = rampart::with_pool!(db.primary(), |pool| {
            sqlx::query_scalar::<_, Option<String>>(
                "SELECT description FROM projects WHERE id = $1",
            )
            .bind(id)
            .fetch_one(pool)
            .await
        });
        out.push(value.unwrap_or_else(|e| panic!("{e}")));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_serialisation_conflict_runs_again_and_keeps_the_invariant() {
    for backend in BACKENDS {
        let app = app(backend).await;
        let (first, second) = two_projects(&app).await;
        ON_CALL_RUNS.store(0, Ordering::SeqCst);
        let (a, b) = tokio::join!(
            app.post(&format!("/api/v1/tx/on-call/{first}")).send(),
            app.post(&format!("/api/v1/tx/on-call/{second}")).send()
        );
        for response in [&a, &b] {
            assert_eq!(response.status(), 200, "{backend:?}: {}", response.text());
        }
        let took: Vec<bool> = [&a, &b]
            .iter()
            .map(|r| r.json()["data"]["took"] == true)
            .collect();
        assert_eq!(
            took.iter().filter(|t| **t).count(),
            1,
            "{backend:?}: exactly one request took the on-call slot: {took:?}"
        );
        let stored = descriptions(&app, [first, second]).await;
        assert_eq!(
            stored
                .iter()
                .filter(|d| d.as_deref() == Some("on call"))
                .count(),
            1,
            "{backend:?}: the invariant holds in the database: {stored:?}"
        );
        assert_eq!(
            ON_CALL_RUNS.load(Ordering::SeqCst),
            3,
            "{backend:?}: the loser ran again once (2 first runs + 1 retry)"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deadlock_victim_runs_again_and_both_requests_succeed() {
    let app = app(TestBackend::Postgres).await;
    let (first, second) = two_projects(&app).await;
    DEADLOCK_RUNS.store(0, Ordering::SeqCst);
    let (a, b) = tokio::join!(
        app.post(&format!("/api/v1/tx/lock/{first}")).send(),
        app.post(&format!("/api/v1/tx/lock/{second}")).send()
    );
    assert_eq!(a.status(), 200, "{}", a.text());
    assert_eq!(b.status(), 200, "{}", b.text());
    assert_eq!(
        DEADLOCK_RUNS.load(Ordering::SeqCst),
        3,
        "the deadlock victim ran again once"
    );
    // Serial effect: the transaction that committed last wrote both rows.
    let stored = descriptions(&app, [first, second]).await;
    assert!(stored[0].is_some() && stored[0] == stored[1], "{stored:?}");
}

static ALWAYS_RUNS: AtomicU32 = AtomicU32::new(0);

/// A transaction whose statement always loses (a function raising 40001).
#[endpoint(post = "/tx/always", public)]
async fn always_conflicts(store: Store<Project>) -> ApiResult<Outcome> {
    store
        .transaction(|tx| {
            let store = store.in_tx(&tx);
            async move {
                ALWAYS_RUNS.fetch_add(1, Ordering::SeqCst);
                store
                    .fetch_scalar(
                        "tx.always",
                        Target::Write,
                        "SELECT rampart_conflict('40001')",
                        vec![],
                    )
                    .await
                    // Whatever the body makes of the error, the answer is the 409.
                    .map_err(|_| ApiError::internal("the body mapped it to a 500"))?;
                Ok(Outcome { took: true })
            }
        })
        .await
}

/// The old API: begin, a statement that deadlocks (40P01), commit.
#[endpoint(post = "/tx/begin", public)]
async fn conflicts_under_begin(store: Store<Project>) -> ApiResult<Outcome> {
    let tx = store.begin().await?;
    store
        .in_tx(&tx)
        .fetch_scalar(
            "tx.begin",
            Target::Write,
            "SELECT rampart_conflict('40P01')",
            vec![],
        )
        .await?;
    tx.commit().await?;
    Ok(Outcome { took: true })
}

/// One statement outside any transaction that always loses.
#[endpoint(post = "/tx/single", public)]
async fn conflicting_statement(store: Store<Project>) -> ApiResult<Outcome> {
    store
        .fetch_scalar(
            "tx.single",
            Target::Write,
            "SELECT rampart_conflict('40001')",
            vec![],
        )
        .await?;
    Ok(Outcome { took: true })
}

#[tokio::test]
async fn conflicts_that_keep_happening_are_409_never_500() {
    let app = app(TestBackend::Postgres).await;
    let db = app.app().db().cloned();
    let db = db.unwrap_or_else(|| panic!("no database"));
    // Counts its calls in a sequence (not rolled back with the transaction), then raises.
    let setup = [
        "CREATE SEQUENCE conflict_calls",
        "CREATE FUNCTION rampart_conflict(code TEXT) RETURNS BIGINT AS $$ \
         BEGIN PERFORM nextval('conflict_calls'); \
         RAISE EXCEPTION 'provoked conflict' USING ERRCODE = code; END $$ LANGUAGE plpgsql",
    ];
    for statement in setup {
        let done = rampart::with_pool!(db.primary(), |pool| sqlx::query(statement)
            .execute(pool)
            .await
            .map(|_| ()));
        assert!(done.is_ok(), "{done:?}");
    }
    let calls = || async {
        let value = rampart::with_pool!(db.primary(), |pool| sqlx::query_scalar::<_, i64>(
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM conflict_calls"
        )
        .fetch_one(pool)
        .await);
        value.unwrap_or_else(|e| panic!("{e}"))
    };

    let response = app.post("/api/v1/tx/always").send().await;
    assert_error(&response, 409, "CONFLICT");
    assert!(
        response.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("retry")),
        "{}",
        response.text()
    );
    assert_eq!(
        ALWAYS_RUNS.load(Ordering::SeqCst),
        4,
        "the first run and three retries"
    );
    assert_eq!(calls().await, 4);

    let response = app.post("/api/v1/tx/begin").send().await;
    assert_error(&response, 409, "CONFLICT");
    assert_eq!(calls().await, 5, "begin()/commit() does not run it again");

    let response = app.post("/api/v1/tx/single").send().await;
    assert_error(&response, 409, "CONFLICT");
    assert_eq!(
        calls().await,
        9,
        "a single statement is run again up to three times"
    );

    let metrics = app.get("/metrics").send().await.text();
    assert!(
        metrics.contains("rampart_conflict_retries_total{query=\"transaction\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("rampart_conflict_retries_total{query=\"tx.single\"}"),
        "{metrics}"
    );
}
