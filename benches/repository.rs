//! Repository benchmark on PostgreSQL, in one run:
//!
//! 1. the generated repository's `get` and `list` (a page of 20 and its total, in a 100-task
//!    project) against the same statements written by hand with sqlx (the same pool, the same
//!    row type, rounds alternating which side goes first);
//! 2. cursor page 1 against cursor page 1,000 of a 100,000-row list.
//!
//! Run with `cargo bench --bench repository` (PostgreSQL from `RAMPART_TEST_POSTGRES_URL`,
//! default `postgres://postgres@127.0.0.1:5432/test`; it creates and drops its own database).
//! Figures go to docs/benchmarks.md; nothing here asserts a time.

include!("../examples/taskboard/roles.rs");

#[path = "../examples/taskboard/app.rs"]
#[allow(dead_code)]
mod app;

use std::time::{Duration, Instant};

use app::projects::Task;
use rampart::auth::{AuthScheme, Principal};
use rampart::resource::CursorKey;
use rampart::{Db, DbConfig, ListQuery, Scope, Store};
use uuid::Uuid;

const ROWS: i64 = 100_000;
const SMALL_ROWS: i64 = 100;
const DATABASE: &str = "rampart_bench_repository";

type Failure = Box<dyn std::error::Error>;

async fn time<F, Fut>(iterations: u32, mut run: F) -> Result<Duration, Failure>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), Failure>>,
{
    let started = Instant::now();
    for _ in 0..iterations {
        run().await?;
    }
    Ok(started.elapsed() / iterations)
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

async fn run() -> Result<(), Failure> {
    let admin_url = std::env::var("RAMPART_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let admin = sqlx::PgPool::connect(&admin_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"
    )))
    .execute(&admin)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {DATABASE}")))
        .execute(&admin)
        .await?;
    let url = match admin_url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{DATABASE}"),
        None => return Err("cannot derive the database URL".into()),
    };
    let db = Db::connect(&DbConfig::new(url.clone())).await?;
    db.migrate(&app::MIGRATIONS).await?;
    // The hand-written side uses the very pool the repository uses: the comparison prices
    // rampart's code, not two pools' settings.
    let pool = match db.primary() {
        rampart::db::Pool::Postgres(pool) => pool.clone(),
        rampart::db::Pool::Sqlite(_) => return Err("the benchmark needs PostgreSQL".into()),
    };

    let owner = Uuid::now_v7();
    // `project` holds 100,000 tasks (the cursor-depth run); `small` a typical 100, so the
    // repository-vs-hand-written list measures the code around the statements rather than
    // the variance of counting 100k rows.
    let (project, small) = (Uuid::now_v7(), Uuid::now_v7());
    for (id, rows) in [(project, ROWS), (small, SMALL_ROWS)] {
        sqlx::query("INSERT INTO projects (id, owner_id, name, archived, version, created_at, updated_at) VALUES ($1, $2, $3, FALSE, 1, now(), now())")
            .bind(id)
            .bind(owner)
            .bind(id.to_string())
            .execute(&pool)
            .await?;
        sqlx::query(
        "INSERT INTO tasks (id, owner_id, project_id, title, done, archived, version, created_at, updated_at) \
         SELECT gen_random_uuid(), $1, $2, 'task ' || g, g % 3 = 0, FALSE, 1, \
                timestamptz '2026-01-01' + g * interval '1 millisecond', now() \
         FROM generate_series(1, $3) AS g",
    )
        .bind(owner)
        .bind(id)
        .bind(rows)
        .execute(&pool)
        .await?;
    }
    sqlx::query("ANALYZE tasks").execute(&pool).await?;
    let some_id: Uuid =
        sqlx::query_scalar("SELECT id FROM tasks ORDER BY created_at LIMIT 1 OFFSET 5000")
            .fetch_one(&pool)
            .await?;

    let principal = Principal {
        user_id: owner,
        roles: vec!["member".to_owned()],
        scheme: AuthScheme::Jwt,
        api_key_id: None,
    };
    let scope = Scope::of(&principal);
    let store = Store::<Task>::new(db.clone(), CursorKey::derive(b"bench-secret"));
    let first_page = ListQuery::<Task>::parse("per_page=20")?;

    // The same statements, written by hand.
    const GET: &str = r#"SELECT "id", "owner_id", "project_id", "title", "done", "due", "archived", "version", "created_at", "updated_at" FROM "tasks" WHERE "id" = $1 AND "owner_id" = $2"#;
    const LIST: &str = r#"SELECT "id", "owner_id", "project_id", "title", "done", "due", "archived", "version", "created_at", "updated_at" FROM "tasks" WHERE "owner_id" = $1 AND "project_id" = $2 ORDER BY "created_at" ASC, "id" ASC LIMIT $3"#;
    const COUNT: &str =
        r#"SELECT COUNT(*) FROM "tasks" WHERE "owner_id" = $1 AND "project_id" = $2"#;

    let rounds = 9;
    let measure_get_repo = async || -> Result<f64, Failure> {
        Ok(micros(
            time(2000, || async {
                store
                    .get(&scope, some_id)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.message().into())
            })
            .await?,
        ))
    };
    let measure_get_hand = async || -> Result<f64, Failure> {
        Ok(micros(
            time(2000, || async {
                let row: Option<Task> = sqlx::query_as(GET)
                    .bind(some_id)
                    .bind(owner)
                    .fetch_optional(&pool)
                    .await?;
                row.map(|_| ()).ok_or_else(|| "missing".into())
            })
            .await?,
        ))
    };
    let measure_list_repo = async || -> Result<f64, Failure> {
        Ok(micros(
            time(1000, || async {
                store
                    .list_under(&scope, small, &first_page)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.message().into())
            })
            .await?,
        ))
    };
    let measure_list_hand = async || -> Result<f64, Failure> {
        Ok(micros(
            time(1000, || async {
                let rows: Vec<Task> = sqlx::query_as(LIST)
                    .bind(owner)
                    .bind(small)
                    .bind(21_i64)
                    .fetch_all(&pool)
                    .await?;
                let total: i64 = sqlx::query_scalar(COUNT)
                    .bind(owner)
                    .bind(small)
                    .fetch_one(&pool)
                    .await?;
                (rows.len() == 21 && total == SMALL_ROWS)
                    .then_some(())
                    .ok_or_else(|| "short".into())
            })
            .await?,
        ))
    };
    let (mut get_repo, mut get_hand, mut list_repo, mut list_hand) =
        (vec![], vec![], vec![], vec![]);
    // Alternate which side goes first, so neither always runs on a warmer cache.
    for round in 0..rounds {
        if round % 2 == 0 {
            get_repo.push(measure_get_repo().await?);
            get_hand.push(measure_get_hand().await?);
            list_repo.push(measure_list_repo().await?);
            list_hand.push(measure_list_hand().await?);
        } else {
            get_hand.push(measure_get_hand().await?);
            get_repo.push(measure_get_repo().await?);
            list_hand.push(measure_list_hand().await?);
            list_repo.push(measure_list_repo().await?);
        }
    }

    // Walk to page 1,000 (100 rows a page) to get its cursor.
    let mut cursor = String::new();
    for page in 1..1000 {
        let query = if page == 1 {
            ListQuery::<Task>::parse("per_page=100")?
        } else {
            ListQuery::<Task>::parse(&format!("per_page=100&cursor={cursor}"))?
        };
        let listed = store
            .list_under(&scope, project, &query)
            .await
            .map_err(|e| e.message().to_owned())?;
        cursor = listed.meta.next_cursor.ok_or("walk ended early")?;
    }
    let page_one = ListQuery::<Task>::parse("per_page=100")?;
    let page_thousand = ListQuery::<Task>::parse(&format!("per_page=100&cursor={cursor}"))?;
    let (mut first, mut deep) = (vec![], vec![]);
    for _ in 0..rounds {
        first.push(micros(
            time(30, || async {
                store
                    .list_under(&scope, project, &page_one)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.message().into())
            })
            .await?,
        ));
        deep.push(micros(
            time(30, || async {
                let page = store
                    .list_under(&scope, project, &page_thousand)
                    .await
                    .map_err(|e| e.message().to_owned())?;
                (page.items.len() == 100)
                    .then_some(())
                    .ok_or_else(|| "short page".into())
            })
            .await?,
        ));
    }

    let (gr, gh, lr, lh, p1, p1000) = (
        median(get_repo),
        median(get_hand),
        median(list_repo),
        median(list_hand),
        median(first),
        median(deep),
    );
    println!("| operation | rampart repository | hand-written sqlx | throughput ratio |");
    println!("|---|---|---|---|");
    println!(
        "| get by id (owner-scoped) | {gr:.1} µs | {gh:.1} µs | {:.2}x |",
        gh / gr
    );
    println!(
        "| list page of 20 + exact total (100-task project) | {lr:.1} µs | {lh:.1} µs | {:.2}x |",
        lh / lr
    );
    println!();
    println!("| cursor page (100 rows, 100k-row list, with total) | latency |");
    println!("|---|---|");
    println!("| page 1 | {p1:.1} µs |");
    println!("| page 1,000 | {p1000:.1} µs ({:.2}x page 1) |", p1000 / p1);

    drop(pool);
    drop(db);
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"
    )))
    .execute(&admin)
    .await?;
    Ok(())
}

fn main() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("repository benchmark failed: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
