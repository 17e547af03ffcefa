//! Database outages: on a dedicated PostgreSQL cluster (so the machine's shared server is not
//! disturbed), stopping the database turns data requests into 503 envelopes with `Retry-After`
//! and no internals, while readiness stays 200 and reports the database down (503 only where
//! `RAMPART_READINESS_REQUIRES` names it); starting it again heals the app without a restart.
//! A stopped replica moves reads to the primary, and they come back to it when it returns.

use std::time::{Duration, Instant};

use rampart::testing::TestApp;
use serde_json::json;

use crate::cluster::Cluster;
use crate::common::assert_error;

#[tokio::test]
async fn a_stopped_database_is_503_and_the_app_recovers_when_it_returns() {
    let cluster = Cluster::create();
    let app = crate::common::taskboard_builder()
        .database_url(cluster.url())
        .migrations(crate::taskboard::MIGRATIONS)
        .configure(|config| config.database.acquire_timeout = Duration::from_secs(1))
        .build()
        .await;
    let app = match app {
        Ok(app) => app,
        Err(error) => panic!("{error}"),
    };
    // A second instance on the same database whose readiness requires it.
    let strict = crate::common::taskboard_builder()
        .database_url(cluster.url())
        .migrations(crate::taskboard::MIGRATIONS)
        .configure(|config| {
            config.database.acquire_timeout = Duration::from_secs(1);
            config.readiness_requires = vec![rampart::health::SharedDependency::Database];
        })
        .build()
        .await;
    let strict = match strict {
        Ok(app) => app,
        Err(error) => panic!("{error}"),
    };
    let token = app.token(&["member"]);
    let created = app
        .post("/api/v1/notes")
        .bearer(&token)
        .json(&json!({"title": "before"}))
        .send()
        .await;
    assert_eq!(created.status(), 201, "{}", created.text());

    assert!(cluster.stop(), "could not stop the dedicated cluster");
    for path in ["/api/v1/notes", "/api/v1/notes"] {
        let response = app.get(path).bearer(&token).send().await;
        assert_error(&response, 503, "UNAVAILABLE");
        assert!(
            response
                .header("retry-after")
                .is_some_and(|s| s.parse::<u32>().is_ok())
        );
        let text = response.text().to_lowercase();
        for internal in [
            "sqlx",
            "connection",
            "refused",
            "postgres",
            "pool",
            "io error",
        ] {
            assert!(
                !text.contains(internal),
                "503 body leaks `{internal}`: {text}"
            );
        }
    }
    let write = app
        .post("/api/v1/notes")
        .bearer(&token)
        .json(&json!({"title": "during"}))
        .send()
        .await;
    assert_error(&write, 503, "UNAVAILABLE");
    // The database is shared by every instance: readiness reports it but stays 200 (draining
    // them all would not bring it back), unless the operator asked for it to count.
    let ready = app.get("/health/ready").send().await;
    assert_eq!(ready.status(), 200, "{}", ready.text());
    assert_eq!(ready.json()["data"]["checks"]["database"], "down");
    let refused = strict.get("/health/ready").send().await;
    assert_error(&refused, 503, "UNAVAILABLE");
    assert_eq!(refused.json()["error"]["details"][0]["field"], "database");
    assert_eq!(app.get("/health/live").send().await.status(), 200);

    assert!(cluster.start(), "could not restart the dedicated cluster");
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut recovered = false;
    while Instant::now() < deadline {
        if app
            .get("/api/v1/notes")
            .bearer(&token)
            .send()
            .await
            .status()
            == 200
        {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        recovered,
        "the app did not recover after the database came back"
    );
    let ready = app.get("/health/ready").send().await;
    assert_eq!(ready.json()["data"]["checks"]["database"], "up");
    assert_eq!(strict.get("/health/ready").send().await.status(), 200);
    let list = app.get("/api/v1/notes").bearer(&token).send().await;
    assert_eq!(
        list.json()["meta"]["total"],
        1,
        "nothing written during the outage, nothing lost before it"
    );
}

/// Sleeps in the database for longer than the statement timeout.
#[rampart::endpoint(get = "/database/slow", public)]
async fn slow_query(db: rampart::Db) -> rampart::ApiResult<SlowResult> {
    let rampart::db::Pool::Postgres(pool) = db.primary() else {
        return Err(rampart::ApiError::internal(
            "this endpoint needs PostgreSQL",
        ));
    };
    db.run("slow", sqlx::query("SELECT pg_sleep(3)").execute(pool))
        .await?;
    Ok(SlowResult { slept: true })
}

#[derive(serde::Serialize, rampart::Schema)]
struct SlowResult {
    slept: bool,
}

#[tokio::test]
async fn a_statement_past_its_timeout_is_503_without_internals() {
    let api = rampart::Api::new().mount(slow_query);
    let app = TestApp::builder(api)
        .backend(rampart::testing::TestBackend::Postgres)
        .configure(|config| config.database.statement_timeout = Duration::from_millis(300))
        .build()
        .await;
    let app = match app {
        Ok(app) => app,
        Err(error) => panic!("{error}"),
    };
    let response = app.get("/api/v1/database/slow").send().await;
    assert_error(&response, 503, "UNAVAILABLE");
    assert!(response.header("retry-after").is_some());
    assert!(
        !response.text().to_lowercase().contains("cancel"),
        "{}",
        response.text()
    );
}

#[tokio::test]
async fn statements_are_logged_with_the_request_id_and_measured() {
    for backend in rampart::testing::BACKENDS {
        let app = crate::common::taskboard(backend).await;
        let request_id = format!("db-log-{}", uuid::Uuid::new_v4().simple());
        let response = app
            .get("/api/v1/notes")
            .bearer(&app.token(&["member"]))
            .header("x-request-id", &request_id)
            .send()
            .await;
        assert_eq!(response.status(), 200);
        let statements: Vec<_> = rampart::testing::log_lines_with(&request_id)
            .into_iter()
            .filter(|line| {
                line["target"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("sqlx"))
            })
            .collect();
        assert!(
            statements.len() >= 2,
            "{backend:?}: the select and the count are logged: {statements:?}"
        );
        assert!(
            statements
                .iter()
                .all(|line| line["level"] == "DEBUG" && line["request_id"] == request_id.as_str())
        );
        assert!(statements.iter().any(|line| {
            line["summary"]
                .as_str()
                .is_some_and(|s| s.contains("SELECT"))
        }));

        let metrics = app.get("/metrics").send().await.text();
        assert!(
            metrics.contains("db_query_duration_seconds_bucket{query=\"notes.list\""),
            "{metrics}"
        );
        for state in ["open", "idle", "in_use"] {
            assert!(
                metrics.contains(&format!(
                    "db_pool_connections{{pool=\"primary\",state=\"{state}\"}}"
                )),
                "{state}"
            );
        }
    }
}

/// The value of an unlabelled counter in the Prometheus text (0 when not yet recorded).
fn counter(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0.0)
}

async fn project_names(app: &TestApp, token: &str) -> Vec<String> {
    let response = app.get("/api/v1/projects").bearer(token).send().await;
    assert_eq!(response.status(), 200, "{}", response.text());
    response.json()["data"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn note_total(app: &TestApp, token: &str) -> serde_json::Value {
    let response = app.get("/api/v1/notes").bearer(token).send().await;
    assert_eq!(response.status(), 200, "{}", response.text());
    response.json()["meta"]["total"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_move_to_the_primary_while_the_replica_is_down_and_come_back() {
    // The replica: a dedicated cluster with the schema and rows only it has, so a read shows
    // which database answered it.
    let replica = Cluster::create();
    let replica_db = rampart::Db::connect(&rampart::DbConfig {
        min_connections: 0,
        ..rampart::DbConfig::new(replica.url())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    replica_db
        .migrate(&crate::taskboard::MIGRATIONS)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let user = uuid::Uuid::now_v7();
    let now = chrono::Utc::now();
    for seed in [
        "INSERT INTO projects (id, owner_id, name, archived, version, created_at, updated_at) \
         VALUES ($1, $2, 'on replica', FALSE, 1, $3, $3)",
        "INSERT INTO notes (id, owner_id, title, body, tags, created_at) \
         VALUES ($1, $2, 'on replica', '', '[]', $3)",
    ] {
        let seeded = rampart::with_pool!(replica_db.primary(), |pool| sqlx::query(seed)
            .bind(uuid::Uuid::now_v7())
            .bind(user)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ()));
        assert!(seeded.is_ok(), "{seeded:?}");
    }

    let replica_url = replica.url();
    let build = |replica_url: String| {
        crate::common::taskboard_builder()
            .backend(rampart::testing::TestBackend::Postgres)
            .migrations(crate::taskboard::MIGRATIONS)
            .configure(move |config| {
                config.database.replica_url = Some(replica_url);
                config.database.replica_retry = Duration::from_millis(500);
                // The databases are told apart by the writer's own uncached reads (notes): no
                // read-your-writes window. Cached reads (projects) are refills, which always
                // read the primary.
                config.database.read_your_writes = Duration::ZERO;
                config.database.acquire_timeout = Duration::from_secs(1);
            })
            .build()
    };
    let app = build(replica_url.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let token = app.token_for(user, &["member"]);
    let created = app
        .post("/api/v1/projects")
        .bearer(&token)
        .json(&json!({"name": "on primary"}))
        .send()
        .await;
    assert_eq!(created.status(), 201, "{}", created.text());
    assert_eq!(
        project_names(&app, &token).await,
        ["on primary"],
        "a cache refill reads the primary"
    );
    assert_eq!(note_total(&app, &token).await, 1, "notes read the replica");
    let ready = app.get("/health/ready").send().await;
    assert_eq!(ready.json()["data"]["checks"]["replica"], "up");

    assert!(replica.stop(), "could not stop the replica");
    let before = counter(
        &app.get("/metrics").send().await.text(),
        "rampart_replica_fallback_total",
    );
    // Reads are answered by the primary (its rows), not 503.
    assert_eq!(project_names(&app, &token).await, ["on primary"]);
    assert_eq!(note_total(&app, &token).await, 0, "notes read the primary");
    // (The project list above was answered from the cache; these read the database.)
    assert_eq!(note_total(&app, &token).await, 0);
    assert_eq!(note_total(&app, &token).await, 0);
    let during = counter(
        &app.get("/metrics").send().await.text(),
        "rampart_replica_fallback_total",
    );
    assert!(
        during >= before + 3.0,
        "each read off the replica is counted: {before} -> {during}"
    );
    let written = app
        .post("/api/v1/projects")
        .bearer(&token)
        .json(&json!({"name": "during"}))
        .send()
        .await;
    assert_eq!(written.status(), 201, "writes never needed the replica");
    let ready = app.get("/health/ready").send().await;
    assert_eq!(ready.status(), 200, "{}", ready.text());
    assert_eq!(ready.json()["data"]["checks"]["replica"], "down");
    assert_eq!(ready.json()["data"]["checks"]["database"], "up");

    // A replica that is down when an instance starts does not stop it from starting.
    let late = build(replica_url).await.unwrap_or_else(|e| panic!("{e}"));
    let late_token = late.token_for(user, &["member"]);
    assert_eq!(note_total(&late, &late_token).await, 0);

    assert!(replica.start(), "could not restart the replica");
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut back = false;
    while Instant::now() < deadline && !back {
        back = note_total(&app, &token).await == 1;
        if !back {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert!(back, "reads went back to the replica after it returned");
    let settled = counter(
        &app.get("/metrics").send().await.text(),
        "rampart_replica_fallback_total",
    );
    assert_eq!(note_total(&app, &token).await, 1);
    assert_eq!(note_total(&app, &token).await, 1);
    let after = counter(
        &app.get("/metrics").send().await.text(),
        "rampart_replica_fallback_total",
    );
    assert_eq!(settled, after, "no more fallbacks once the replica is back");
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline && note_total(&late, &late_token).await != 1 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        note_total(&late, &late_token).await,
        1,
        "the instance that started without its replica uses it once it answers"
    );
    let ready = app.get("/health/ready").send().await;
    assert_eq!(ready.json()["data"]["checks"]["replica"], "up");
}
