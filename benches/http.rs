//! HTTP benchmark: the same JSON from a bare axum handler, a rampart `public` endpoint and a
//! rampart authenticated, role-checked endpoint, in one run, under wrk on loopback.
//!
//! Run with `cargo bench --bench http` (wrk must be on PATH; `scripts/bench.sh` installs it).
//! Every server runs on one tokio worker thread so the ratios compare per-core cost; the
//! rampart servers have the full pipeline on: request ids, a JSON access log line per request
//! (non-blocking, to a file), Prometheus metrics, panic recovery, security headers, load
//! shedding, timeout, JWT verification and the role check. Never a timed test: numbers go to
//! docs/benchmarks.md.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use rampart::prelude::*;
use serde::Serialize;

rampart::roles! {
    #[registration]
    member: ["bench:read"],
}

#[derive(Serialize, Schema)]
struct Hello {
    message: &'static str,
}

#[endpoint(get = "/hello", public)]
async fn hello_public() -> ApiResult<Hello> {
    Ok(Hello { message: "hello" })
}

/// The public endpoint with an in-memory rate limit that never triggers (to price the check).
#[endpoint(get = "/hello/limited", public, rate_limit = "1000000/sec")]
async fn hello_limited() -> ApiResult<Hello> {
    Ok(Hello { message: "hello" })
}

#[endpoint(get = "/hello/member", role = "member")]
async fn hello_member() -> ApiResult<Hello> {
    Ok(Hello { message: "hello" })
}

/// How many times the aggregate below ran: the database queries issued.
static AGGREGATES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[derive(Serialize, Schema)]
struct Aggregate {
    rows: i64,
    total: i64,
}

/// An aggregate over the whole table: the kind of read a cache is for.
async fn aggregate_of(db: &Db) -> ApiResult<Aggregate> {
    AGGREGATES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let select = "SELECT COUNT(*), COALESCE(SUM(n), 0) FROM items";
    let (rows, total): (i64, i64) = db
        .read("bench.aggregate", |pool| async move {
            rampart::with_pool!(&pool, |pool| sqlx::query_as(select).fetch_one(pool).await)
        })
        .await?;
    Ok(Aggregate { rows, total })
}

#[endpoint(get = "/aggregate", public)]
async fn aggregate(db: Db) -> ApiResult<Aggregate> {
    aggregate_of(&db).await
}

#[endpoint(get = "/aggregate/cached", public, cache(ttl = "1h", tags = ["items"]))]
async fn aggregate_cached(db: Db) -> ApiResult<Aggregate> {
    aggregate_of(&db).await
}

async fn bare() -> impl IntoResponse {
    let body = serde_json::json!({"data": {"message": "hello"}, "meta": null, "error": null});
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
}

fn serve(router: Router) -> SocketAddr {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let address = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("address: {e}"));
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"));
        runtime.block_on(async move {
            let _ = listener.set_nonblocking(true);
            let listener = tokio::net::TcpListener::from_std(listener)
                .unwrap_or_else(|e| panic!("listener: {e}"));
            let _ = axum::serve(listener, router).await;
        });
    });
    address
}

struct Run {
    name: &'static str,
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn parse_latency(text: &str) -> f64 {
    let text = text.trim();
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (text, 1.0)
    };
    number
        .parse::<f64>()
        .map(|n| n * factor)
        .unwrap_or(f64::NAN)
}

fn wrk(name: &'static str, url: &str, token: Option<&str>, seconds: u64, connections: u32) -> Run {
    // The load generator gets core 1; the servers (and their log writer) run on core 0.
    let mut command = Command::new("taskset");
    command.args([
        "-c",
        "1",
        "wrk",
        "-t1",
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
    ]);
    if let Some(token) = token {
        command.args(["-H", &format!("Authorization: Bearer {token}")]);
    }
    let output = command
        .arg(url)
        .output()
        .unwrap_or_else(|e| panic!("wrk is required on PATH: {e}"));
    let text = String::from_utf8_lossy(&output.stdout);
    let mut run = Run {
        name,
        requests_per_second: f64::NAN,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
    };
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["Requests/sec:", value] => run.requests_per_second = value.parse().unwrap_or(f64::NAN),
            ["50%", value] => run.p50_ms = parse_latency(value),
            ["99%", value] => run.p99_ms = parse_latency(value),
            _ => {}
        }
        if line.contains("Non-2xx") {
            panic!("{name}: wrk saw non-2xx responses:\n{text}");
        }
    }
    run
}

/// Each target's median round, by requests per second.
fn medians(samples: Vec<Vec<Run>>) -> Vec<Run> {
    samples
        .into_iter()
        .map(|mut runs| {
            runs.sort_by(|a, b| a.requests_per_second.total_cmp(&b.requests_per_second));
            runs.swap_remove(runs.len() / 2)
        })
        .collect()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // Re-run pinned to core 0 so server work (logging included) is measured on one core.
    if std::env::var_os("RAMPART_BENCH_PINNED").is_none() {
        let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
        let status = Command::new("taskset")
            .args(["-c", "0"])
            .arg(exe)
            .env("RAMPART_BENCH_PINNED", "1")
            .status()
            .unwrap_or_else(|e| panic!("taskset (util-linux) is required: {e}"));
        std::process::exit(status.code().unwrap_or(1));
    }
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let connections: u32 = std::env::var("BENCH_CONNECTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32);
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let log_path = std::env::temp_dir().join("rampart-bench-access.log");
    let log_file = std::fs::File::create(&log_path).unwrap_or_else(|e| panic!("log file: {e}"));
    let (writer, _guard) =
        rampart::observability::BatchWriter::new(log_file).unwrap_or_else(|e| panic!("{e}"));
    // BENCH_LOG=off measures the pipeline without the access log (an ablation, not the target).
    let log_filter = std::env::var("BENCH_LOG").unwrap_or_else(|_| "info".to_owned());
    rampart::observability::init_logging_with("bench", writer, &log_filter);
    rampart::observability::install_prometheus();

    let config = rampart::Config::from_lookup(&|name| match name {
        "JWT_SECRET" => Some("bench-secret-bench-secret-bench-secret".to_owned()),
        "RAMPART_DOCS" => Some("false".to_owned()),
        _ => None,
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let app = rampart::App::new(config, None);
    let token = app
        .keys()
        .issue(uuid::Uuid::now_v7(), &["member".to_owned()])
        .unwrap_or_else(|e| panic!("{e}"));
    let rampart_router = Api::new()
        .mount(hello_public)
        .mount(hello_member)
        .mount(hello_limited)
        .into_router(&app)
        .unwrap_or_else(|e| panic!("{e}"));

    // BENCH_CACHE_ONLY=1 runs the cached-reads section alone.
    if std::env::var_os("BENCH_CACHE_ONLY").is_some() {
        cached_reads(seconds, connections, rounds);
        return;
    }
    let bare_router = Router::new()
        .route("/hello", axum::routing::get(bare))
        .with_state(());
    if std::env::var_os("BENCH_IN_PROCESS").is_some() {
        in_process(
            &bare_router,
            &rampart_router,
            &token,
            &app.keys().config().clone(),
        );
        return;
    }
    let bare_address = serve(bare_router);
    let rampart_address = serve(rampart_router);
    std::thread::sleep(Duration::from_millis(200));

    // Warm up every target, then measure in one run.
    for (url, auth) in [
        (format!("http://{bare_address}/hello"), None),
        (format!("http://{rampart_address}/api/v1/hello"), None),
        (
            format!("http://{rampart_address}/api/v1/hello/member"),
            Some(token.as_str()),
        ),
    ] {
        let _ = wrk("warmup", &url, auth, 2, connections);
    }
    let targets: [(&'static str, String, Option<&str>); 3] = [
        ("bare axum", format!("http://{bare_address}/hello"), None),
        (
            "rampart public",
            format!("http://{rampart_address}/api/v1/hello"),
            None,
        ),
        (
            "rampart authenticated + role",
            format!("http://{rampart_address}/api/v1/hello/member"),
            Some(&token),
        ),
    ];
    // BENCH_ONLY=1 (or 0, 2) loads a single target, for profiling.
    if let Some(only) = std::env::var("BENCH_ONLY")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        if let Some((name, url, auth)) = targets.get(only) {
            let run = wrk(name, url, *auth, seconds, connections);
            println!("{name}: {:.0} req/s", run.requests_per_second);
        }
        return;
    }
    // The machine is a shared VM whose speed drifts: alternate the targets over several rounds
    // and report each target's median round, so the ratios compare like with like.
    let mut samples: Vec<Vec<Run>> = (0..targets.len()).map(|_| Vec::new()).collect();
    for _ in 0..rounds {
        for (index, (name, url, auth)) in targets.iter().enumerate() {
            samples[index].push(wrk(name, url, *auth, seconds, connections));
        }
    }
    let runs = medians(samples);
    let baseline = runs[0].requests_per_second;
    println!(
        "wrk -t1 -c{connections} -d{seconds}s on core 1; servers on core 0, one tokio worker each; median of {rounds} alternating rounds"
    );
    println!();
    println!("| target | req/s | p50 (ms) | p99 (ms) | vs bare axum |");
    println!("|---|---:|---:|---:|---:|");
    for run in &runs {
        println!(
            "| {} | {:.0} | {:.3} | {:.3} | {:.2}x |",
            run.name,
            run.requests_per_second,
            run.p50_ms,
            run.p99_ms,
            run.requests_per_second / baseline
        );
    }
    let lines = std::fs::read_to_string(&log_path)
        .map(|t| t.lines().count())
        .unwrap_or(0);
    println!();
    println!("access-log lines written during the run: {lines}");
    // With the `otel` feature exporting, what reached the collector and what was dropped
    // (a bounded queue drops spans rather than slow requests): the figures are only
    // comparable when nothing was dropped.
    let metrics = rampart::observability::render_metrics().unwrap_or_default();
    for name in [
        "rampart_otel_spans_exported_total",
        "rampart_otel_spans_dropped_total",
        "rampart_otel_export_errors_total",
    ] {
        if let Some(line) = metrics.lines().find(|line| line.starts_with(name)) {
            println!("{line}");
        }
    }
    if std::env::var_os("BENCH_SKIP_CACHE").is_none() {
        cached_reads(seconds, connections, rounds);
    }
    if std::env::var_os("BENCH_SKIP_LOGINS").is_none() {
        logins_under_load(seconds, connections);
    }
}

/// The aggregate over 20,000 SQLite rows uncached, cached in process, and cached with the
/// Redis tier (when `REDIS_URL` is set), against bare axum in the same run; then 500
/// concurrent requests on a cold key: the queries each issues.
fn cached_reads(seconds: u64, connections: u32, rounds: usize) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let redis_url = std::env::var("REDIS_URL").ok();
    let db_path = std::env::temp_dir().join(format!("rampart-bench-{}.db", uuid::Uuid::now_v7()));
    let build = |redis: Option<String>| {
        let db_path = db_path.clone();
        async move {
            let config = rampart::Config::from_lookup(&|name| match name {
                "JWT_SECRET" => Some("bench-secret-bench-secret-bench-secret".to_owned()),
                "RAMPART_DOCS" => Some("false".to_owned()),
                "DATABASE_URL" => Some(format!("sqlite://{}", db_path.display())),
                _ => None,
            })
            .unwrap_or_else(|e| panic!("{e}"));
            let db = rampart::Db::connect(&config.database)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let mut app = rampart::App::new(config, Some(db));
            if let Some(url) = redis {
                let prefix = format!("rampart-bench-{}", uuid::Uuid::now_v7().simple());
                let store = rampart::rate_limit::RedisStore::connect(&url, &prefix)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                app = app.with_redis(store);
            }
            let router = Api::new()
                .mount(aggregate)
                .mount(aggregate_cached)
                .into_router(&app)
                .unwrap_or_else(|e| panic!("{e}"));
            (app, router)
        }
    };
    let (app, router) = runtime.block_on(async {
        let (app, router) = build(None).await;
        let db = app.db().cloned().unwrap_or_else(|| panic!("a database"));
        let seeded: Result<(), sqlx::Error> = rampart::with_pool!(db.primary(), |pool| async {
            sqlx::query("CREATE TABLE items (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
                .execute(pool)
                .await?;
            sqlx::query(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000) \
                 INSERT INTO items (id, n) SELECT x, x % 97 FROM c",
            )
            .execute(pool)
            .await
            .map(|_| ())
        }
        .await);
        seeded.unwrap_or_else(|e| panic!("{e}"));
        (app, router)
    });
    let shared = redis_url
        .clone()
        .map(|url| runtime.block_on(build(Some(url))));
    let bare_address = serve(
        Router::new()
            .route("/hello", axum::routing::get(bare))
            .with_state(()),
    );
    let address = serve(router.clone());
    let shared_address = shared.as_ref().map(|(_, router)| serve(router.clone()));
    std::thread::sleep(Duration::from_millis(200));
    let mut targets: Vec<(&'static str, String)> = vec![
        (
            "bare axum (static JSON)",
            format!("http://{bare_address}/hello"),
        ),
        (
            "rampart aggregate, uncached",
            format!("http://{address}/api/v1/aggregate"),
        ),
        (
            "rampart aggregate, cached (in-process tier)",
            format!("http://{address}/api/v1/aggregate/cached"),
        ),
    ];
    if let Some(shared_address) = shared_address {
        targets.push((
            "rampart aggregate, cached (Redis tier: tag versions read per request)",
            format!("http://{shared_address}/api/v1/aggregate/cached"),
        ));
    }
    for (_, url) in &targets {
        let _ = wrk("warmup", url, None, 2, connections);
    }
    let mut samples: Vec<Vec<Run>> = targets.iter().map(|_| Vec::new()).collect();
    for _ in 0..rounds {
        for (index, (name, url)) in targets.iter().enumerate() {
            samples[index].push(wrk(name, url, None, seconds, connections));
        }
    }
    println!();
    println!("Cached reads (SQLite, 20,000 rows; median of {rounds} alternating rounds):");
    println!();
    println!("| target | req/s | p50 (ms) | p99 (ms) | vs uncached |");
    println!("|---|---:|---:|---:|---:|");
    let runs = medians(samples);
    let uncached = runs[1].requests_per_second;
    for run in &runs {
        println!(
            "| {} | {:.0} | {:.3} | {:.3} | {:.2}x |",
            run.name,
            run.requests_per_second,
            run.p50_ms,
            run.p99_ms,
            run.requests_per_second / uncached
        );
    }
    println!();
    println!("500 concurrent requests on a cold key (in process, one runtime):");
    println!();
    println!("| endpoint | database queries |");
    println!("|---|---:|");
    let stampede = |router: Router, path: &'static str| {
        let before = AGGREGATES.load(std::sync::atomic::Ordering::Relaxed);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        runtime.block_on(async move {
            use tower::ServiceExt;
            let mut requests = Vec::new();
            for _ in 0..500 {
                let request = axum::http::Request::builder()
                    .uri(path)
                    .header("host", "localhost")
                    .body(axum::body::Body::empty())
                    .unwrap_or_default();
                requests.push(tokio::spawn(router.clone().oneshot(request)));
            }
            for request in requests {
                let response = request.await.unwrap_or_else(|e| panic!("{e}"));
                let Ok(response) = response;
                assert_eq!(response.status(), 200);
            }
        });
        AGGREGATES.load(std::sync::atomic::Ordering::Relaxed) - before
    };
    // A fresh app per measurement, so the key is cold.
    let cold = || runtime.block_on(build(None)).1;
    println!("| uncached | {} |", stampede(cold(), "/api/v1/aggregate"));
    println!(
        "| cached (in-process tier) | {} |",
        stampede(cold(), "/api/v1/aggregate/cached")
    );
    drop(app);
    drop(shared);
    let _ = std::fs::remove_file(&db_path);
}

/// Per-request cost of each router without the network: `oneshot` in a loop on one thread.
fn in_process(bare: &Router, rampart_router: &Router, token: &str, jwt: &rampart::auth::JwtConfig) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let iterations: u32 = std::env::var("BENCH_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let cases: [(&str, &Router, &str, Option<&str>); 4] = [
        ("bare axum", bare, "/hello", None),
        ("rampart public", rampart_router, "/api/v1/hello", None),
        (
            "rampart public + in-memory rate limit",
            rampart_router,
            "/api/v1/hello/limited",
            None,
        ),
        (
            "rampart authenticated + role",
            rampart_router,
            "/api/v1/hello/member",
            Some(token),
        ),
    ];
    // `BENCH_CASE=k` runs case k alone and nothing else, for instruction and allocation counts
    // under valgrind (scripts/cost.sh): the difference between two iteration counts is the
    // per-request cost, with set-up and teardown cancelled out.
    if let Some(case) = std::env::var("BENCH_CASE")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        if let Some((name, router, path, auth)) = cases.get(case) {
            runtime.block_on(requests(router, path, *auth, iterations));
            println!("{name}: {iterations} requests");
        }
        return;
    }
    let started = std::time::Instant::now();
    let keys = rampart::auth::JwtKeys::new(jwt.clone());
    for _ in 0..iterations {
        assert!(keys.verify(token).is_ok());
    }
    let verify = started.elapsed().as_secs_f64() * 1e6 / f64::from(iterations);
    println!("JWT verification alone: {verify:.2} µs");
    println!();
    println!("| target (in process, no network) | µs per request |");
    println!("|---|---:|");
    for (name, router, path, auth) in cases {
        let started = std::time::Instant::now();
        runtime.block_on(requests(router, path, auth, iterations));
        let micros = started.elapsed().as_secs_f64() * 1e6 / f64::from(iterations);
        println!("| {name} | {micros:.2} |");
    }
}

/// Sends `iterations` GETs of `path` through the router in process and reads every body.
async fn requests(router: &Router, path: &str, auth: Option<&str>, iterations: u32) {
    use tower::ServiceExt;
    for _ in 0..iterations {
        let mut request = axum::http::Request::builder()
            .uri(path)
            .header("host", "localhost");
        if let Some(token) = auth {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = request.body(axum::body::Body::empty()).unwrap_or_default();
        let response = router.clone().oneshot(request).await;
        let body = match response {
            Ok(response) => axum::body::to_bytes(response.into_body(), 4096)
                .await
                .map(|b| b.len())
                .unwrap_or(0),
            Err(never) => match never {},
        };
        assert!(body > 0);
    }
}

/// Authenticated GET latency with and without logins saturating password hashing.
fn logins_under_load(seconds: u64, connections: u32) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let db_path = std::env::temp_dir().join(format!("rampart-bench-{}.db", uuid::Uuid::now_v7()));
    let password = "correct horse battery staple";
    let (app, router, token) = runtime.block_on(async {
        let config = rampart::Config::from_lookup(&|name| match name {
            "JWT_SECRET" => Some("bench-secret-bench-secret-bench-secret".to_owned()),
            "RAMPART_DOCS" => Some("false".to_owned()),
            // Price the work, not the refusals: no limit triggers during the run.
            "RAMPART_RATE_LIMIT_MULTIPLIER" => Some("1000000".to_owned()),
            "DATABASE_URL" => Some(format!("sqlite://{}", db_path.display())),
            _ => None,
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let db = rampart::Db::connect(&config.database)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        rampart::identity::migrate(&db)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let app = rampart::App::new(config, Some(db));
        let user = rampart::identity::ensure_admin(
            &app,
            rampart::rbac!(),
            "bench@example.com",
            password.to_owned(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let token = app
            .keys()
            .issue(user.id, &["member".to_owned()])
            .unwrap_or_default();
        let api = rampart::identity::mount(Api::new().mount(hello_member), rampart::rbac!());
        let router = api.into_router(&app).unwrap_or_else(|e| panic!("{e}"));
        (app, router, token)
    });
    let _keep = app;
    let address = serve(router);
    std::thread::sleep(Duration::from_millis(200));
    let get = format!("http://{address}/api/v1/hello/member");
    let _ = wrk("warmup", &get, Some(&token), 2, connections);
    let quiet = wrk(
        "authenticated GET, no logins",
        &get,
        Some(&token),
        seconds,
        connections,
    );

    let script = std::env::temp_dir().join("rampart-bench-login.lua");
    let lua = format!(
        "wrk.method = \"POST\"\nwrk.body = '{{\"email\":\"bench@example.com\",\"password\":\"{password}\"}}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
    );
    std::fs::write(&script, lua).unwrap_or_else(|e| panic!("{e}"));
    let login_url = format!("http://{address}/api/v1/auth/login");
    let script_path = script.display().to_string();
    let login_seconds = seconds + 2;
    let logins = std::thread::spawn(move || {
        Command::new("taskset")
            .args([
                "-c",
                "1",
                "wrk",
                "-t1",
                "-c8",
                &format!("-d{login_seconds}s"),
                "-s",
                &script_path,
                &login_url,
            ])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    });
    std::thread::sleep(Duration::from_millis(500));
    let loaded = wrk(
        "authenticated GET, logins saturating hashing",
        &get,
        Some(&token),
        seconds,
        connections,
    );
    let login_output = logins.join().unwrap_or_default();
    let login_rate = login_output
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:").map(|v| v.trim().to_owned()))
        .unwrap_or_else(|| "?".to_owned());
    println!();
    println!("| scenario | req/s | p50 (ms) | p99 (ms) | p99 vs quiet |");
    println!("|---|---:|---:|---:|---:|");
    for run in [&quiet, &loaded] {
        println!(
            "| {} | {:.0} | {:.3} | {:.3} | {:.2}x |",
            run.name,
            run.requests_per_second,
            run.p50_ms,
            run.p99_ms,
            run.p99_ms / quiet.p99_ms
        );
    }
    println!();
    println!("logins served during the loaded run: {login_rate}/s");
    let _ = std::fs::remove_file(&db_path);
}
