//! taskboard: the rampart reference app.
//!
//! `cargo run --example taskboard` serves on 127.0.0.1:3000 with an SQLite file
//! (`taskboard.db`) and no other setup; `cargo run --example taskboard -- openapi` prints the
//! OpenAPI document; `cargo run --example taskboard -- worker` runs the background jobs (with
//! `REDIS_URL` set; without it, the server runs them in its own process). Configuration comes
//! from the environment (see the README).

use std::process::ExitCode;

include!("roles.rs");

mod app;

async fn run(worker: bool) -> Result<(), Box<dyn std::error::Error>> {
    // Logging first (the service name read directly), so that a configuration error, and every
    // later start-up failure, is a log line too; configuration warnings are logged by App::new.
    let service = std::env::var("RAMPART_SERVICE")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "rampart".to_owned());
    let _logs = rampart::observability::init_logging(&service);
    let outcome = if worker { work().await } else { serve().await };
    outcome.inspect_err(|error| {
        tracing::error!(error = %error, "start-up failed");
    })
}

/// `worker`: runs the jobs until SIGTERM or Ctrl-C, then drains (`RAMPART_JOB_*`).
async fn work() -> Result<(), Box<dyn std::error::Error>> {
    let state = build_app().await?;
    if state.jobs().is_some_and(|jobs| jobs.is_in_process()) {
        return Err("the worker needs REDIS_URL: without it, `serve` runs the jobs itself".into());
    }
    let _metrics = rampart::api::serve_metrics(&state).await?;
    state
        .worker()?
        .run(rampart::server::shutdown_signal())
        .await;
    Ok(())
}

/// The app as both processes build it: database, Redis, dependencies, jobs and the
/// registration hook that enqueues the welcome mail.
async fn build_app() -> Result<rampart::App, Box<dyn std::error::Error>> {
    let config = rampart::Config::from_env()?;
    rampart::observability::install_prometheus();
    let db = rampart::Db::connect(&config.database).await?;
    db.migrate(&app::MIGRATIONS).await?;
    rampart::identity::migrate(&db).await?;
    // Where `idempotent` endpoints keep their records when there is no Redis.
    rampart::idempotency::migrate(&db).await?;
    let redis = match &config.redis_url {
        Some(url) => {
            Some(rampart::rate_limit::RedisStore::connect(url, &config.redis_prefix).await?)
        }
        None => None,
    };
    let mut state = rampart::App::new(config, Some(db));
    if let Some(redis) = redis {
        state = state.with_redis(redis);
    }
    // The handlers' typed dependencies (`Dep<T>`): into_router refuses to start without them.
    let dependencies = app::dependencies(state.config().environment)?;
    state = state.with_dependencies(dependencies);
    // Jobs on Redis when REDIS_URL is set; in development, in this process otherwise.
    state = state.with_jobs(app::jobs::jobs()).await?;
    Ok(app::jobs::attach(state))
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let state = build_app().await?;
    // The first administrator, from the environment (the password never reaches a log).
    if let (Ok(email), Ok(password)) = (
        std::env::var("TASKBOARD_ADMIN_EMAIL"),
        std::env::var("TASKBOARD_ADMIN_PASSWORD"),
    ) {
        // ensure_admin writes the audit event (`admin_created` / `admin_ensured`).
        rampart::identity::ensure_admin(&state, rampart::rbac!(), &email, password).await?;
    }
    // METRICS_BIND: /metrics on its own listener (the main one then does not serve it).
    let _metrics = rampart::api::serve_metrics(&state).await?;
    let router = app::api().into_router(&state)?;
    rampart::server::serve(router, state).await?;
    Ok(())
}

/// `create-admin EMAIL`: reads the password from stdin (one line), creates or promotes the account.
async fn create_admin(email: &str) -> Result<(), Box<dyn std::error::Error>> {
    let mut password = String::new();
    std::io::stdin().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let config = rampart::Config::from_env()?;
    let db = rampart::Db::connect(&config.database).await?;
    db.migrate(&app::MIGRATIONS).await?;
    rampart::identity::migrate(&db).await?;
    let state = rampart::App::new(config, Some(db));
    let admin = rampart::identity::ensure_admin(&state, rampart::rbac!(), email, password).await?;
    println!("administrator {} ({})", admin.email, admin.id);
    Ok(())
}

fn print_openapi() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "{}",
        serde_json::to_string_pretty(&app::api().openapi_json())?
    );
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let command = std::env::args().nth(1);
    let result = match command.as_deref() {
        None | Some("serve") => run(false).await,
        Some("worker") => run(true).await,
        Some("openapi") => print_openapi(),
        Some("create-admin") => match std::env::args().nth(2) {
            Some(email) => create_admin(&email).await,
            None => {
                eprintln!("usage: taskboard create-admin EMAIL  (password on stdin)");
                return ExitCode::from(2);
            }
        },
        Some(other) => {
            eprintln!(
                "unknown command `{other}`; expected `serve` (default), `worker`, `openapi` or `create-admin EMAIL`"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("taskboard: {error}");
            ExitCode::FAILURE
        }
    }
}
