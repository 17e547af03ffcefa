//! Read-your-writes on a real streaming replica: a primary and a hot standby made with
//! pg_basebackup, whose replay is paused (`pg_wal_replay_pause()`) so that it lags
//! deterministically. A user's reads after its write come from the primary (on the instance it
//! wrote through, and on another one sharing Redis), everyone else's still from the lagging
//! replica until it replays; a cache refill reads the primary even with the window off; and
//! with `RAMPART_READ_YOUR_WRITES=0s` the writer reads the replica, so the window is what makes
//! the difference.

use std::time::{Duration, Instant};

use rampart::testing::TestApp;
use serde_json::json;
use sqlx::PgPool;

use crate::cluster::Cluster;

fn redis_url() -> String {
    std::env::var("RAMPART_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

async fn connect(url: &str) -> PgPool {
    PgPool::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"))
}

async fn scalar_bool(pool: &PgPool, sql: &'static str) -> bool {
    sqlx::query_scalar::<_, Option<bool>>(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or(false)
}

/// Polls `check` every 50 ms for up to 20 s; whether it held.
async fn eventually<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Waits until the standby has replayed everything the primary has written so far.
async fn caught_up(primary: &PgPool, standby: &PgPool) -> bool {
    let lsn: String = sqlx::query_scalar("SELECT pg_current_wal_lsn()::text")
        .fetch_one(primary)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    eventually(|| async {
        sqlx::query_scalar::<_, Option<bool>>("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn")
            .bind(&lsn)
            .fetch_one(standby)
            .await
            .ok()
            .flatten()
            .unwrap_or(false)
    })
    .await
}

async fn total(app: &TestApp, path: &str, token: &str) -> serde_json::Value {
    let response = app.get(path).bearer(token).send().await;
    assert_eq!(response.status(), 200, "{path}: {}", response.text());
    response.json()["meta"]["total"].clone()
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

async fn post_note(app: &TestApp, token: &str, title: &str) {
    let created = app
        .post("/api/v1/notes")
        .bearer(token)
        .json(&json!({"title": title, "body": ""}))
        .send()
        .await;
    assert_eq!(created.status(), 201, "{}", created.text());
}

fn counter(metrics: &str, line_start: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(line_start)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0.0)
}

async fn build(primary: String, replica: String, window: Duration, prefix: &str) -> TestApp {
    crate::common::taskboard_builder()
        .database_url(primary)
        .migrations(crate::taskboard::MIGRATIONS)
        .redis(redis_url(), prefix)
        .configure(move |config| {
            config.database.replica_url = Some(replica);
            config.database.read_your_writes = window;
        })
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_reads_its_write_while_the_replica_lags_and_others_read_the_replica() {
    let primary = Cluster::create();
    let standby = Cluster::standby_of(&primary);
    let primary_pool = connect(&primary.url()).await;
    let standby_pool = connect(&standby.url()).await;
    assert!(
        eventually(|| async {
            scalar_bool(
                &standby_pool,
                "SELECT bool_or(status = 'streaming') FROM pg_stat_wal_receiver",
            )
            .await
        })
        .await,
        "the standby is streaming from the primary"
    );

    let prefix = format!("ryw-{}", uuid::Uuid::new_v4().simple());
    let window = Duration::from_secs(60);
    // Two instances sharing Redis with the window on, and one with it off (its own prefix, so
    // that no record of the others reaches it).
    let one = build(primary.url(), standby.url(), window, &prefix).await;
    let two = build(primary.url(), standby.url(), window, &prefix).await;
    let off_prefix = format!("{prefix}-off");
    let off = build(primary.url(), standby.url(), Duration::ZERO, &off_prefix).await;
    assert!(
        caught_up(&primary_pool, &standby_pool).await,
        "the standby replayed the migrations"
    );

    // From here the replica lags: it replays nothing until resumed.
    sqlx::query("SELECT pg_wal_replay_pause()")
        .execute(&standby_pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        eventually(|| async {
            scalar_bool(
                &standby_pool,
                "SELECT pg_get_wal_replay_pause_state() = 'paused'",
            )
            .await
        })
        .await,
        "replay is paused"
    );

    let writer = uuid::Uuid::now_v7();
    let writer_token = one.token_for(writer, &["member"]);
    let admin_token = one.token_for(uuid::Uuid::now_v7(), &["admin"]);
    let auditor_token = one.token_for(uuid::Uuid::now_v7(), &["auditor"]);

    let before = one.get("/metrics").send().await.text();
    post_note(&one, &writer_token, "written").await;
    // The writer's next read (`GET /notes`, uncached, through `db.read`) sees its note: it
    // went to the primary, on the instance it wrote through and on the other one (Redis).
    assert_eq!(total(&one, "/api/v1/notes", &writer_token).await, 1);
    assert_eq!(
        total(&two, "/api/v1/notes", &writer_token).await,
        1,
        "another instance honours the write through Redis"
    );
    // Someone who wrote nothing still reads the replica, which has not replayed the note.
    assert_eq!(
        total(&one, "/api/v1/admin/notes", &admin_token).await,
        0,
        "other users' reads stay on the lagging replica"
    );
    let after = one.get("/metrics").send().await.text();
    for (outcome, at_least) in [("window", 2.0), ("replica", 1.0)] {
        let line = format!("rampart_read_your_writes_total{{outcome=\"{outcome}\"}}");
        assert!(
            counter(&after, &line) >= counter(&before, &line) + at_least,
            "{line} counted: {} -> {}",
            counter(&before, &line),
            counter(&after, &line)
        );
    }

    // With the window off, the writer's own uncached read after its write reads the replica:
    // the window is what made the difference above.
    post_note(&off, &writer_token, "written with the window off").await;
    assert_eq!(
        total(&off, "/api/v1/notes", &writer_token).await,
        0,
        "without the window the writer reads the lagging replica"
    );
    assert_eq!(total(&one, "/api/v1/notes", &writer_token).await, 2);

    // A cache refill reads the primary whatever the window: the writer creates a project
    // through the instance with the window off, and its cached list (a miss, so a refill)
    // shows it although the replica has not replayed it.
    let created = off
        .post("/api/v1/projects")
        .bearer(&writer_token)
        .json(&json!({"name": "fresh"}))
        .send()
        .await;
    assert_eq!(created.status(), 201, "{}", created.text());
    assert_eq!(project_names(&off, &writer_token).await, ["fresh"]);
    // A shared entry refilled for a caller who never wrote: the board's numbers count both
    // notes, while that caller's uncached reads still come from the replica.
    let stats = one.get("/api/v1/stats").bearer(&auditor_token).send().await;
    assert_eq!(stats.status(), 200, "{}", stats.text());
    assert_eq!(
        stats.json()["data"]["notes"],
        2,
        "a refill reads the primary"
    );
    assert_eq!(total(&one, "/api/v1/admin/notes", &admin_token).await, 0);

    // Once the replica replays, everyone's replica reads see the notes.
    sqlx::query("SELECT pg_wal_replay_resume()")
        .execute(&standby_pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        eventually(|| async { total(&one, "/api/v1/admin/notes", &admin_token).await == 2 }).await,
        "the replica replayed the writes and other users' reads see them"
    );
    assert_eq!(total(&off, "/api/v1/notes", &writer_token).await, 2);
}
