//! taskboard: the rampart reference app.
//!
//! `cargo run --example taskboard` serves on 127.0.0.1:3000 with an SQLite file
//! (`taskboard.db`) and no other setup; `cargo run --example taskboard -- openapi` prints the
//! OpenAPI document. Configuration comes from the environment (see the README).

use std::process::ExitCode;

include!("roles.rs");

mod app;

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = rampart::Config::from_env()?;
    let _logs = rampart::observability::init_logging(&config.service);
    rampart::observability::install_prometheus();
    let db = rampart::Db::connect(&config.database).await?;
    db.migrate(&app::MIGRATIONS).await?;
    rampart::identity::migrate(&db).await?;
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
    let router = app::api().into_router(&state)?;
    rampart::server::serve(router, state).await?;
    Ok(())
}

fn print_openapi() -> Result<(), Box<dyn std::error::Error>> {
    println!("{}", app::api().openapi().to_pretty_json()?);
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let command = std::env::args().nth(1);
    let result = match command.as_deref() {
        None | Some("serve") => run().await,
        Some("openapi") => print_openapi(),
        Some(other) => {
            eprintln!("unknown command `{other}`; expected `serve` (default) or `openapi`");
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
