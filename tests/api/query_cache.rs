//! The cache of `#[query(.., cache(..))]` through the real router: a cached read answers
//! without running its statement until a write through a store of its table (on any
//! instance, through Redis) makes it stale; a write that bypasses the stores is not seen
//! until then, which is how these tests tell a cached answer from a computed one. Entries are
//! per bound value (the owner among them); a cold key is computed once for concurrent
//! callers, on one instance and across two; inside a transaction nothing is cached; with the
//! database stopped the last entry answers.

use std::time::Duration;

use rampart::prelude::*;
use rampart::testing::{TestApp, TestAppBuilder, TestBackend};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::common::taskboard_builder_for;
use crate::taskboard::projects::Task;

/// Cached reads of the taskboard's tasks, one method per test that counts its misses (the
/// metric is labelled by the method).
#[repository(Task)]
trait CachedTasks {
    #[query(
        "SELECT COUNT(*) FROM tasks WHERE project_id = :project AND owner_id = :owner AND done = FALSE",
        cache(ttl = "60s")
    )]
    async fn open(&self, scope: &Scope, project: Uuid) -> ApiResult<i64>;

    #[query(
        "SELECT * FROM tasks WHERE project_id = :project AND owner_id = :owner ORDER BY created_at",
        cache(ttl = "60s", stale_if_error = "10m")
    )]
    async fn listed(&self, scope: &Scope, project: Uuid) -> ApiResult<Vec<Task>>;

    #[query(
        "SELECT COUNT(*) FROM tasks WHERE project_id = :project AND owner_id = :owner",
        cache(ttl = "60s")
    )]
    async fn stampede_one(&self, scope: &Scope, project: Uuid) -> ApiResult<i64>;

    #[query(
        "SELECT COUNT(*) FROM tasks WHERE project_id = :project AND owner_id = :owner",
        cache(ttl = "60s")
    )]
    async fn stampede_two(&self, scope: &Scope, project: Uuid) -> ApiResult<i64>;

    #[query(
        "SELECT title, done FROM tasks WHERE project_id = :project AND owner_id = :owner ORDER BY created_at",
        cache(ttl = "60s")
    )]
    async fn title_and_done(&self, scope: &Scope, project: Uuid) -> ApiResult<Vec<TitleAndDone>>;

    #[query(
        "SELECT COUNT(*) FROM tasks WHERE project_id = :project AND owner_id = :owner",
        cache(ttl = "60s")
    )]
    async fn herd_cold(&self, scope: &Scope, project: Uuid) -> ApiResult<i64>;

    #[query(
        "SELECT COUNT(*) FROM tasks WHERE project_id = :project AND owner_id = :owner",
        cache(ttl = "60s", stale_if_error = "10m")
    )]
    async fn herd_stale(&self, scope: &Scope, project: Uuid) -> ApiResult<i64>;

    /// Not cached: what the cached endpoint `herd_endpoint` runs.
    #[query("SELECT COUNT(*) FROM tasks WHERE project_id = :project AND owner_id = :owner")]
    async fn herd_uncached(&self, scope: &Scope, project: Uuid) -> ApiResult<i64>;
}

/// A cached read of a child table (`exports` rows go when their project is deleted: `ON
/// DELETE CASCADE`, declared on `Project` as `cascades = ["exports"]`).
#[repository(crate::taskboard::jobs::Export)]
trait CachedExports {
    #[query(
        "SELECT COUNT(*) FROM exports WHERE project_id = :project AND owner_id = :owner",
        cache(ttl = "60s")
    )]
    async fn of_project(&self, scope: &Scope, project: Uuid) -> ApiResult<i64>;
}

/// A row type whose JSON leaves out a field its `Deserialize` requires (no macro sees its
/// serde attributes, unlike a resource's): what the cache writes would never decode back.
#[derive(Debug, Serialize, serde::Deserialize)]
struct TitleAndDone {
    title: String,
    #[serde(skip_serializing)]
    done: bool,
}

impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for TitleAndDone
where
    &'r str: sqlx::ColumnIndex<R>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        Ok(Self {
            title: row.try_get("title")?,
            done: row.try_get("done")?,
        })
    }
}

/// A write from another resource's repository to `tasks`.
#[repository(crate::taskboard::projects::Project, tables(Task))]
trait ProjectTasks {
    #[query("UPDATE tasks SET done = TRUE WHERE project_id = :project AND owner_id = :owner")]
    async fn finish(&self, scope: &Scope, project: Uuid) -> ApiResult<u64>;
}

/// Two writes of `projects` alone, one naming `tasks` in `invalidates` (what a trigger of
/// `projects` would change; here the test changes `tasks` behind the stores' back instead).
#[repository(crate::taskboard::projects::Project)]
trait ProjectTouches {
    #[query(
        "UPDATE projects SET name = name WHERE id = :project AND owner_id = :owner",
        invalidates = ["tasks"]
    )]
    async fn touch_and_invalidate(&self, scope: &Scope, project: Uuid) -> ApiResult<u64>;

    #[query("UPDATE projects SET name = name WHERE id = :project AND owner_id = :owner")]
    async fn touch(&self, scope: &Scope, project: Uuid) -> ApiResult<u64>;
}

#[derive(Debug, Serialize, Schema)]
struct Count {
    count: i64,
}

#[derive(Debug, Serialize, Schema)]
struct Titles {
    titles: Vec<String>,
}

#[endpoint(get = "/qc/{project}/open", role = "member")]
async fn open_count(ctx: Ctx, tasks: CachedTasks, Path(project): Path<Uuid>) -> ApiResult<Count> {
    let count = tasks.open(&ctx.scope()?, project).await?;
    Ok(Count { count })
}

#[endpoint(get = "/qc/{project}/titles", role = "member")]
async fn list_titles(ctx: Ctx, tasks: CachedTasks, Path(project): Path<Uuid>) -> ApiResult<Titles> {
    let rows = tasks.listed(&ctx.scope()?, project).await?;
    Ok(Titles {
        titles: rows.into_iter().map(|task| task.title).collect(),
    })
}

#[endpoint(get = "/qc/{project}/stampede/{which}", role = "member")]
async fn stampede_count(
    ctx: Ctx,
    tasks: CachedTasks,
    Path((project, which)): Path<(Uuid, u8)>,
) -> ApiResult<Count> {
    let scope = ctx.scope()?;
    let count = match which {
        1 => tasks.stampede_one(&scope, project).await?,
        _ => tasks.stampede_two(&scope, project).await?,
    };
    Ok(Count { count })
}

#[derive(Debug, Serialize, Schema)]
struct Dones {
    done: Vec<bool>,
}

#[endpoint(get = "/qc/{project}/done", role = "member")]
async fn list_done(ctx: Ctx, tasks: CachedTasks, Path(project): Path<Uuid>) -> ApiResult<Dones> {
    let rows = tasks.title_and_done(&ctx.scope()?, project).await?;
    Ok(Dones {
        done: rows.into_iter().map(|row| row.done).collect(),
    })
}

#[endpoint(get = "/qc/{project}/herd/{which}", role = "member")]
async fn herd_count(
    ctx: Ctx,
    tasks: CachedTasks,
    Path((project, which)): Path<(Uuid, String)>,
) -> ApiResult<Count> {
    let scope = ctx.scope()?;
    let count = match which.as_str() {
        "cold" => tasks.herd_cold(&scope, project).await?,
        _ => tasks.herd_stale(&scope, project).await?,
    };
    Ok(Count { count })
}

/// An endpoint's cache over an uncached statement.
#[endpoint(
    get = "/qc/{project}/herd-endpoint",
    role = "member",
    cache(ttl = "60s", tags = ["tasks"])
)]
async fn herd_endpoint(
    ctx: Ctx,
    tasks: CachedTasks,
    Path(project): Path<Uuid>,
) -> ApiResult<Count> {
    let count = tasks.herd_uncached(&ctx.scope()?, project).await?;
    Ok(Count { count })
}

#[endpoint(get = "/qc/{project}/exports", role = "member")]
async fn export_count(
    ctx: Ctx,
    exports: CachedExports,
    Path(project): Path<Uuid>,
) -> ApiResult<Count> {
    let count = exports.of_project(&ctx.scope()?, project).await?;
    Ok(Count { count })
}

/// Finishes every task of a project through the projects' repository.
#[endpoint(post = "/qc/{project}/finish", role = "member")]
async fn finish(ctx: Ctx, projects: ProjectTasks, Path(project): Path<Uuid>) -> ApiResult<Count> {
    let changed = projects.finish(&ctx.scope()?, project).await?;
    Ok(Count {
        count: i64::try_from(changed).unwrap_or(i64::MAX),
    })
}

/// Touches a project, naming `tasks` as what the write changes when `invalidate` is set.
#[endpoint(post = "/qc/{project}/touch/{invalidate}", role = "member")]
async fn touch(
    ctx: Ctx,
    projects: ProjectTouches,
    Path((project, invalidate)): Path<(Uuid, bool)>,
) -> ApiResult<Count> {
    let scope = &ctx.scope()?;
    let changed = if invalidate {
        projects.touch_and_invalidate(scope, project).await?
    } else {
        projects.touch(scope, project).await?
    };
    Ok(Count {
        count: i64::try_from(changed).unwrap_or(i64::MAX),
    })
}

/// Adds a task and counts the open ones in one transaction: the count sees the new task.
#[endpoint(post = "/qc/{project}/in-tx", role = "member")]
async fn add_and_count(
    ctx: Ctx,
    tasks: CachedTasks,
    Path(project): Path<Uuid>,
) -> ApiResult<Count> {
    let scope = &ctx.scope()?;
    let count = tasks
        .transaction(|tx| {
            let tasks = tasks.in_tx(&tx);
            async move {
                let input: crate::taskboard::projects::NewTask =
                    serde_json::from_value(json!({"title": "in the transaction"}))
                        .map_err(|error| ApiError::internal(error.to_string()))?;
                tasks.create_under(scope, project, input).await?;
                tasks.open(scope, project).await
            }
        })
        .await?;
    Ok(Count { count })
}

fn api() -> Api {
    crate::taskboard::api()
        .mount(open_count)
        .mount(list_titles)
        .mount(stampede_count)
        .mount(add_and_count)
        .mount(finish)
        .mount(touch)
        .mount(list_done)
        .mount(herd_count)
        .mount(herd_endpoint)
        .mount(export_count)
}

fn builder() -> TestAppBuilder {
    taskboard_builder_for(api())
        .backend(TestBackend::Sqlite)
        .migrations(crate::taskboard::MIGRATIONS)
        .with_identity()
        .configure(|config| {
            config.max_concurrency = 2048;
            config.max_in_flight_per_principal = 1024;
        })
}

async fn build(builder: TestAppBuilder) -> TestApp {
    builder.build().await.unwrap_or_else(|e| panic!("{e}"))
}

fn redis_url() -> String {
    std::env::var("RAMPART_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

async fn two_instances() -> (TestApp, TestApp) {
    let prefix = format!("rampart-test-qc-{}", Uuid::new_v4().simple());
    let first = build(
        builder()
            .backend(TestBackend::Postgres)
            .redis(redis_url(), &prefix),
    )
    .await;
    let url = first.app().config().database.url.clone();
    let second = build(builder().database_url(url).redis(redis_url(), &prefix)).await;
    (first, second)
}

async fn project(app: &TestApp, token: &str) -> Uuid {
    let created = app
        .post("/api/v1/projects")
        .bearer(token)
        .json(&json!({ "name": format!("p-{}", Uuid::new_v4().simple()) }))
        .send()
        .await;
    assert_eq!(created.status(), 201, "{}", created.text());
    created.json()["data"]["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no id: {}", created.text()))
}

async fn task(app: &TestApp, token: &str, project: Uuid, title: &str) -> Uuid {
    let created = app
        .post(&format!("/api/v1/projects/{project}/tasks"))
        .bearer(token)
        .json(&json!({ "title": title }))
        .send()
        .await;
    assert_eq!(created.status(), 201, "{}", created.text());
    created.json()["data"]["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no id: {}", created.text()))
}

async fn count(app: &TestApp, token: &str, path: &str) -> i64 {
    let response = app.get(path).bearer(token).send().await;
    assert_eq!(response.status(), 200, "{}", response.text());
    response.json()["data"]["count"]
        .as_i64()
        .unwrap_or_else(|| panic!("no count: {}", response.text()))
}

/// The taskboard's `open-tasks` (its cached `TaskRepo::open_count`).
async fn open_tasks(app: &TestApp, token: &str, path: &str) -> i64 {
    let response = app.get(path).bearer(token).send().await;
    assert_eq!(response.status(), 200, "{}", response.text());
    response.json()["data"]["open"]
        .as_i64()
        .unwrap_or_else(|| panic!("no count: {}", response.text()))
}

async fn titles_of(app: &TestApp, token: &str, project: Uuid) -> Vec<String> {
    let response = app
        .get(&format!("/api/v1/qc/{project}/titles"))
        .bearer(token)
        .send()
        .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    serde_json::from_value(response.json()["data"]["titles"].clone())
        .unwrap_or_else(|error| panic!("{error}: {}", response.text()))
}

/// Marks every task done behind the stores' back: no tag is bumped, so a cached read does
/// not see it until a write through a store makes it stale.
async fn finish_all_behind_the_stores(app: &TestApp) {
    let db = app.app().db().unwrap_or_else(|| panic!("no database"));
    let done: Result<_, sqlx::Error> = rampart::with_pool!(db.primary(), |pool| {
        sqlx::query("UPDATE tasks SET done = TRUE")
            .execute(pool)
            .await
            .map(|_| ())
    });
    done.unwrap_or_else(|error| panic!("{error}"));
}

/// The misses (statements run and stored) counted for `query` in the process (the metrics
/// recorder is global: every app's `/metrics` shows the same counters).
async fn misses(app: &TestApp, query: &str) -> u64 {
    outcomes(app, query, "miss").await
}

/// The answers of `query` counted with `outcome` in `rampart_cache_total`.
async fn outcomes(app: &TestApp, query: &str, outcome: &str) -> u64 {
    let metrics = app.get("/metrics").send().await.text();
    metrics
        .lines()
        .filter(|line| {
            line.starts_with("rampart_cache_total")
                && line.contains(&format!("endpoint=\"{query}\""))
                && line.contains(&format!("outcome=\"{outcome}\""))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// How many times the statement labelled `query` was attempted (each attempt is measured in
/// `db_query_duration_seconds`, failed ones too).
async fn statements(app: &TestApp, query: &str) -> u64 {
    let metrics = app.get("/metrics").send().await.text();
    metrics
        .lines()
        .filter(|line| {
            line.starts_with("db_query_duration_seconds_count")
                && line.contains(&format!("query=\"{query}\""))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// 200 concurrent GETs of `path`, spread over `apps` in turn, each answered a count of 1.
async fn all_count_one(apps: &[&TestApp], token: &str, path: &str) {
    let requests: Vec<_> = (0..200)
        .map(|n| tokio::spawn(apps[n % apps.len()].get(path).bearer(token).send()))
        .collect();
    for request in requests {
        let response = request.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(response.json()["data"]["count"], 1);
    }
}

#[tokio::test]
async fn a_cached_query_answers_until_a_write_through_a_store_makes_it_stale() {
    for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
        let app = build(builder().backend(backend)).await;
        let token = app.token(&["member"]);
        let project = project(&app, &token).await;
        task(&app, &token, project, "first").await;
        let open = format!("/api/v1/qc/{project}/open");
        assert_eq!(count(&app, &token, &open).await, 1);
        assert_eq!(titles_of(&app, &token, project).await, vec!["first"]);

        let taskboard = format!("/api/v1/projects/{project}/open-tasks");
        assert_eq!(open_tasks(&app, &token, &taskboard).await, 1);

        finish_all_behind_the_stores(&app).await;
        assert_eq!(count(&app, &token, &open).await, 1, "the entry answers");
        assert_eq!(
            open_tasks(&app, &token, &taskboard).await,
            1,
            "the taskboard's cached query answers from its entry too"
        );

        // A write through the tasks store makes every cached read of `tasks` stale.
        task(&app, &token, project, "second").await;
        assert_eq!(
            count(&app, &token, &open).await,
            1,
            "fresh: the first is done now, the second is open"
        );
        assert_eq!(
            titles_of(&app, &token, project).await,
            vec!["first", "second"],
            "the rows as stored"
        );
    }
}

#[tokio::test]
async fn a_custom_write_makes_the_cached_reads_of_every_table_it_writes_stale() {
    let app = build(builder()).await;
    let token = app.token(&["member"]);
    let project = project(&app, &token).await;
    task(&app, &token, project, "a").await;
    task(&app, &token, project, "b").await;
    let open = format!("/api/v1/qc/{project}/open");
    assert_eq!(count(&app, &token, &open).await, 2);
    // `ProjectTasks` is the projects' repository; its statement writes `tasks`.
    let finished = app
        .post(&format!("/api/v1/qc/{project}/finish"))
        .bearer(&token)
        .send()
        .await;
    assert_eq!(finished.status(), 200, "{}", finished.text());
    assert_eq!(finished.json()["data"]["count"], 2);
    assert_eq!(count(&app, &token, &open).await, 0, "fresh after the write");
}

/// `invalidates = ["tasks"]` on a write of `projects` makes the cached reads of `tasks`
/// stale; the same write without it leaves them, which shows the entry was still answering.
#[tokio::test]
async fn a_write_naming_a_table_in_invalidates_makes_its_cached_reads_stale() {
    for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
        let app = build(builder().backend(backend)).await;
        let token = app.token(&["member"]);
        let project = project(&app, &token).await;
        task(&app, &token, project, "a").await;
        let open = format!("/api/v1/qc/{project}/open");
        assert_eq!(count(&app, &token, &open).await, 1);
        finish_all_behind_the_stores(&app).await;
        let touch_project = |invalidate: bool| {
            app.post(&format!("/api/v1/qc/{project}/touch/{invalidate}"))
                .bearer(&token)
                .send()
        };
        let plain = touch_project(false).await;
        assert_eq!(plain.status(), 200, "{}", plain.text());
        assert_eq!(plain.json()["data"]["count"], 1, "the project was written");
        assert_eq!(
            count(&app, &token, &open).await,
            1,
            "{backend:?}: a write of `projects` alone leaves the entry of `tasks`"
        );
        let naming = touch_project(true).await;
        assert_eq!(naming.status(), 200, "{}", naming.text());
        assert_eq!(
            count(&app, &token, &open).await,
            0,
            "{backend:?}: `invalidates = [\"tasks\"]` made it stale: the rows as stored"
        );
    }
}

#[tokio::test]
async fn an_entry_is_per_owner_and_per_bound_value() {
    let app = build(builder()).await;
    let (alice, bob) = (app.token(&["member"]), app.token(&["member"]));
    let (first, second) = (project(&app, &alice).await, project(&app, &alice).await);
    task(&app, &alice, first, "a").await;
    task(&app, &alice, first, "b").await;
    task(&app, &alice, second, "c").await;
    assert_eq!(
        count(&app, &alice, &format!("/api/v1/qc/{first}/open")).await,
        2
    );
    assert_eq!(
        count(&app, &alice, &format!("/api/v1/qc/{second}/open")).await,
        1
    );
    // Bob asks for Alice's project: the owner is bound, so his key is his own, and his
    // scope sees none of her tasks.
    assert_eq!(
        count(&app, &bob, &format!("/api/v1/qc/{first}/open")).await,
        0
    );
    assert!(titles_of(&app, &bob, first).await.is_empty());
    assert_eq!(
        count(&app, &alice, &format!("/api/v1/qc/{first}/open")).await,
        2
    );
}

#[tokio::test]
async fn inside_a_transaction_a_cached_query_sees_its_own_writes() {
    let app = build(builder()).await;
    let token = app.token(&["member"]);
    let project = project(&app, &token).await;
    task(&app, &token, project, "before").await;
    let open = format!("/api/v1/qc/{project}/open");
    assert_eq!(count(&app, &token, &open).await, 1);
    let in_tx = app
        .post(&format!("/api/v1/qc/{project}/in-tx"))
        .bearer(&token)
        .send()
        .await;
    assert_eq!(in_tx.status(), 200, "{}", in_tx.text());
    assert_eq!(in_tx.json()["data"]["count"], 2, "not the cached 1");
    // The commit made the entry stale.
    assert_eq!(count(&app, &token, &open).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_key_runs_its_statement_once_for_concurrent_callers() {
    let app = build(builder()).await;
    let token = app.token(&["member"]);
    let project = project(&app, &token).await;
    task(&app, &token, project, "a").await;
    let path = format!("/api/v1/qc/{project}/stampede/1");
    all_count_one(&[&app], &token, &path).await;
    assert_eq!(misses(&app, "CachedTasks.stampede_one").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_entries_and_invalidations_through_redis() {
    let (first, second) = two_instances().await;
    let token = first.token(&["member"]);
    let project = project(&first, &token).await;
    task(&first, &token, project, "a").await;

    // A cold key asked on both instances at once: one statement in all.
    let path = format!("/api/v1/qc/{project}/stampede/2");
    all_count_one(&[&first, &second], &token, &path).await;
    // The recorder is the process's: one `/metrics` counts both instances.
    assert_eq!(
        misses(&first, "CachedTasks.stampede_two").await,
        1,
        "one statement across both instances"
    );

    // Stored by the first, answered by the second from Redis.
    let open = format!("/api/v1/qc/{project}/open");
    assert_eq!(count(&first, &token, &open).await, 1);
    finish_all_behind_the_stores(&first).await;
    assert_eq!(count(&second, &token, &open).await, 1, "the shared entry");
    // A write on the second makes the first's next read fresh.
    task(&second, &token, project, "b").await;
    assert_eq!(count(&first, &token, &open).await, 1, "a done, b open");
    assert_eq!(titles_of(&first, &token, project).await, vec!["a", "b"]);
}

/// The database stopped (a dedicated cluster): a cached query answers its last entry within
/// `stale_if_error`; an uncached read answers 503.
#[tokio::test]
async fn with_the_database_stopped_a_cached_query_answers_its_last_entry() {
    let cluster = crate::cluster::Cluster::create();
    let app = build(
        builder()
            .database_url(cluster.url())
            .configure(|config| config.database.acquire_timeout = Duration::from_secs(1)),
    )
    .await;
    let token = app.token(&["member"]);
    let project = project(&app, &token).await;
    task(&app, &token, project, "kept").await;
    assert_eq!(titles_of(&app, &token, project).await, vec!["kept"]);
    // A write makes the entry stale; it still answers when the database cannot.
    task(&app, &token, project, "after").await;

    assert!(cluster.stop(), "could not stop the dedicated cluster");
    let stale_before = outcomes(&app, "CachedTasks.listed", "stale").await;
    let answered = app
        .get(&format!("/api/v1/qc/{project}/titles"))
        .bearer(&token)
        .send()
        .await;
    assert_eq!(answered.status(), 200, "{}", answered.text());
    assert_eq!(
        answered.json()["data"]["titles"],
        json!(["kept"]),
        "the last entry"
    );
    // Said, not silent: the answer is marked stale as the endpoint cache marks its own, and
    // counted.
    assert_eq!(
        answered.header("cache-status"),
        Some("rampart; fwd=miss; detail=stale"),
        "the stale answer is marked"
    );
    assert!(
        answered
            .header("age")
            .is_some_and(|age| age.parse::<u64>().is_ok()),
        "the stale entry's age: {:?}",
        answered.headers()
    );
    assert_eq!(
        outcomes(&app, "CachedTasks.listed", "stale").await,
        stale_before + 1
    );
    let uncached = app
        .get(&format!("/api/v1/projects/{project}/tasks"))
        .bearer(&token)
        .send()
        .await;
    crate::common::assert_error(&uncached, 503, "UNAVAILABLE");
    assert!(cluster.start(), "could not restart the dedicated cluster");
}

/// A row type whose JSON leaves out a field it needs back (possible for a type no macro
/// declares; a resource is refused at compile time) is never answered from the cache with
/// that field lost: its entry is refused when written, and said (`undecodable`).
#[tokio::test]
async fn rows_that_do_not_decode_from_their_json_are_not_cached_and_counted() {
    let app = build(builder()).await;
    let token = app.token(&["member"]);
    let project = project(&app, &token).await;
    task(&app, &token, project, "a").await;
    let path = format!("/api/v1/qc/{project}/done");
    let done = |response: &rampart::testing::TestResponse| response.json()["data"]["done"].clone();
    let label = "CachedTasks.title_and_done";
    let (undecodable, missed) = (
        outcomes(&app, label, "undecodable").await,
        misses(&app, label).await,
    );
    let first = app.get(&path).bearer(&token).send().await;
    assert_eq!(first.status(), 200, "{}", first.text());
    assert_eq!(done(&first), json!([false]));
    finish_all_behind_the_stores(&app).await;
    let second = app.get(&path).bearer(&token).send().await;
    assert_eq!(second.status(), 200, "{}", second.text());
    assert_eq!(
        done(&second),
        json!([true]),
        "read from the database: nothing was kept"
    );
    assert_eq!(outcomes(&app, label, "undecodable").await, undecodable + 2);
    assert_eq!(misses(&app, label).await, missed, "nothing stored");
}

/// A delete that the database cascades (`exports` rows go with their project) makes the
/// cached reads of the child table stale: `Project` declares `cascades = ["exports"]`.
#[tokio::test]
async fn a_cascading_delete_makes_the_cached_reads_of_the_child_table_stale() {
    for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
        let app = build(builder().backend(backend)).await;
        let token = app.token(&["member"]);
        let project = project(&app, &token).await;
        let db = app.app().db().unwrap_or_else(|| panic!("no database"));
        // Behind the stores (no export is asked for through the API here: that needs the
        // worker), with the project's owner and times.
        let inserted: Result<_, sqlx::Error> = rampart::with_pool!(db.primary(), |pool| {
            sqlx::query(
                "INSERT INTO exports (id, owner_id, project_id, status, version, created_at, updated_at) \
                 SELECT $1, owner_id, id, 'queued', 1, created_at, updated_at FROM projects WHERE id = $2",
            )
            .bind(Uuid::now_v7())
            .bind(project)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        });
        assert_eq!(inserted.unwrap_or_else(|error| panic!("{error}")), 1);
        let path = format!("/api/v1/qc/{project}/exports");
        assert_eq!(count(&app, &token, &path).await, 1);

        let deleted = app
            .request(
                axum::http::Method::DELETE,
                &format!("/api/v1/projects/{project}"),
            )
            .bearer(&token)
            .send()
            .await;
        assert_eq!(deleted.status(), 204, "{}", deleted.text());
        assert_eq!(
            count(&app, &token, &path).await,
            0,
            "{backend:?}: the export went with its project, and the cached count with it"
        );
    }
}

/// The database failing under a cold key: the one request that runs the statement meets the
/// failure, and everyone waiting on it answers the same (the error, or the stale entry where
/// `stale_if_error` allows) without running it again — for a cached query and for an
/// endpoint's cache alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_requests_waiting_on_a_failed_computation_share_its_failure() {
    use sqlx::Connection;

    let app = build(
        builder()
            .backend(TestBackend::Postgres)
            .configure(|config| config.database.statement_timeout = Duration::from_secs(1)),
    )
    .await;
    let token = app.token(&["member"]);
    let project = project(&app, &token).await;
    task(&app, &token, project, "a").await;
    let stale = format!("/api/v1/qc/{project}/herd/stale");
    assert_eq!(count(&app, &token, &stale).await, 1);
    // A write makes that entry stale: it may answer only when the statement fails.
    task(&app, &token, project, "b").await;
    let before = (
        statements(&app, "CachedTasks.herd_cold").await,
        statements(&app, "CachedTasks.herd_stale").await,
        statements(&app, "CachedTasks.herd_uncached").await,
    );

    // The database stops answering about `tasks` (held locked): every statement over it
    // times out, as it does when the database is overloaded.
    let url = app.app().config().database.url.clone();
    let mut locker = sqlx::PgConnection::connect(&url)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    sqlx::query("BEGIN")
        .execute(&mut locker)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    sqlx::query("LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE")
        .execute(&mut locker)
        .await
        .unwrap_or_else(|error| panic!("{error}"));

    let paths = [
        format!("/api/v1/qc/{project}/herd/cold"),
        stale.clone(),
        format!("/api/v1/qc/{project}/herd-endpoint"),
    ];
    let requests: Vec<_> = (0..90)
        .map(|n| {
            let path = paths[n % 3].clone();
            (n % 3, tokio::spawn(app.get(&path).bearer(&token).send()))
        })
        .collect();
    for (which, request) in requests {
        let response = request.await.unwrap_or_else(|e| panic!("{e}"));
        if which == 1 {
            assert_eq!(response.status(), 200, "{}", response.text());
            assert_eq!(response.json()["data"]["count"], 1, "the stale entry");
            assert_eq!(
                response.header("cache-status"),
                Some("rampart; fwd=miss; detail=stale")
            );
        } else {
            crate::common::assert_error(&response, 503, "UNAVAILABLE");
        }
    }
    sqlx::query("ROLLBACK")
        .execute(&mut locker)
        .await
        .unwrap_or_else(|error| panic!("{error}"));

    let after = (
        statements(&app, "CachedTasks.herd_cold").await,
        statements(&app, "CachedTasks.herd_stale").await,
        statements(&app, "CachedTasks.herd_uncached").await,
    );
    assert_eq!(
        (after.0 - before.0, after.1 - before.1, after.2 - before.2),
        (1, 1, 1),
        "one statement attempted per key, for 30 callers each"
    );
}
