//! Logging at every boundary, through the taskboard's real router: the `request started` line
//! and its setting, the user id on every line after authentication (the SQLite worker's
//! statement lines included), statement lines and their setting, and no credential or email in
//! any line of any identity flow. (Panic backtraces: `pipeline.rs`.)

use rampart::__private::axum::http::Method;
use rampart::testing::{TestApp, TestBackend, TestResponse, log_lines_with, logs};
use serde_json::{Value, json};

use crate::common::assert_error;

const PASSWORD: &str = "correct horse battery staple";

async fn taskboard_with(
    backend: TestBackend,
    change: impl FnOnce(&mut rampart::Config) + Send + 'static,
) -> TestApp {
    crate::common::taskboard_builder()
        .backend(backend)
        .migrations(crate::taskboard::MIGRATIONS)
        .with_identity()
        .configure(change)
        .build()
        .await
        .unwrap_or_else(|e| panic!("taskboard on {backend:?}: {e}"))
}

fn request_id(name: &str) -> String {
    format!("{name}-{}", uuid::Uuid::new_v4().simple())
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn the_request_started_line_is_debug_by_default_and_info_when_set() {
    for (level, expected) in [
        (None, "DEBUG"),
        (
            Some(rampart::observability::RequestStartLevel::Info),
            "INFO",
        ),
        (
            Some(rampart::observability::RequestStartLevel::Debug),
            "DEBUG",
        ),
    ] {
        let app = taskboard_with(TestBackend::Sqlite, move |config| {
            if let Some(level) = level {
                config.log_request_start = level;
            }
        })
        .await;
        let id = request_id("start");
        let listed = app
            .get("/api/v1/projects")
            .bearer(&app.token(&["member"]))
            .header("x-request-id", &id)
            .send()
            .await;
        assert_eq!(listed.status(), 200, "{}", listed.text());
        let lines = log_lines_with(&id);
        let access: Vec<&Value> = lines
            .iter()
            .filter(|line| line["target"] == "rampart::access")
            .collect();
        assert_eq!(access.len(), 2, "started and completed: {lines:?}");
        let started = access[0];
        assert_eq!(started["message"], "request started", "written first");
        assert_eq!(started["level"], expected);
        assert_eq!(started["method"], "GET");
        assert_eq!(started["route"], "/api/v1/projects");
        assert_eq!(started["request_id"], id.as_str());
        assert!(started.get("status").is_none(), "{started}");
        assert_eq!(access[1]["message"], "request completed");
    }
    // The variable, parsed: two levels, anything else refused at start.
    let parse = |value: &'static str| {
        rampart::Config::from_lookup(&move |name| {
            (name == "RAMPART_LOG_REQUEST_START").then(|| value.to_owned())
        })
        .map(|config| config.log_request_start)
    };
    assert_eq!(
        parse("info").ok(),
        Some(rampart::observability::RequestStartLevel::Info)
    );
    assert_eq!(
        parse("DEBUG").ok(),
        Some(rampart::observability::RequestStartLevel::Debug)
    );
    assert!(parse("verbose").is_err());
}

/// Registers and logs in an account; its user id and access token.
async fn account(app: &TestApp) -> (String, String) {
    let account = crate::common::account(app, "log").await;
    (account.id.to_string(), account.access)
}

#[tokio::test]
async fn every_line_after_authentication_carries_the_user_on_sqlite_and_postgres() {
    for backend in rampart::testing::BACKENDS {
        let app = taskboard_with(backend, |_| {}).await;
        let (user, access) = account(&app).await;
        let id = request_id("user");
        let created = app
            .post("/api/v1/projects")
            .bearer(&access)
            .header("x-request-id", &id)
            .json(&json!({"name": "logged"}))
            .send()
            .await;
        assert_eq!(created.status(), 201, "{}", created.text());
        let lines = log_lines_with(&id);
        // A JWT needs no statement to authenticate: every statement of this request runs
        // after authentication. On SQLite sqlx logs them on its worker thread, through the
        // request's span.
        let statements: Vec<&Value> = lines
            .iter()
            .filter(|line| text(&line["target"]).starts_with("sqlx"))
            .collect();
        assert!(!statements.is_empty(), "{backend:?}: {lines:?}");
        for line in &statements {
            assert_eq!(line["user_id"], user.as_str(), "{backend:?}: {line}");
        }
        let completed = lines
            .iter()
            .find(|line| line["message"] == "request completed");
        assert_eq!(
            completed.map(|line| line["user_id"].clone()),
            Some(json!(user))
        );
    }
}

#[tokio::test]
async fn statement_lines_name_each_statement_and_its_duration_only_when_asked() {
    let parse = |value: &'static str| {
        rampart::Config::from_lookup(&move |name| {
            (name == "RAMPART_LOG_STATEMENTS").then(|| value.to_owned())
        })
        .map(|config| config.database.log_statements)
    };
    assert_eq!(parse("true").ok(), Some(true));
    assert_eq!(parse("false").ok(), Some(false));
    assert!(parse("sometimes").is_err());
    assert_eq!(
        rampart::Config::from_lookup(&|_| None)
            .map(|config| config.database.log_statements)
            .ok(),
        Some(false),
        "off by default"
    );
    for on in [true, false] {
        let app = taskboard_with(TestBackend::Sqlite, move |config| {
            config.database.log_statements = on;
        })
        .await;
        let (user, access) = account(&app).await;
        let id = request_id("statements");
        let secret_name = format!("name-{}", uuid::Uuid::new_v4().simple());
        let created = app
            .post("/api/v1/projects")
            .bearer(&access)
            .header("x-request-id", &id)
            .json(&json!({"name": secret_name}))
            .send()
            .await;
        assert_eq!(created.status(), 201, "{}", created.text());
        let statements: Vec<Value> = log_lines_with(&id)
            .into_iter()
            .filter(|line| line["target"] == "rampart::db")
            .collect();
        if !on {
            assert!(statements.is_empty(), "off by default: {statements:?}");
            continue;
        }
        assert!(!statements.is_empty(), "{}", logs());
        for line in &statements {
            assert_eq!(line["message"], "database statement", "{line}");
            assert_eq!(line["level"], "INFO");
            assert!(line["duration_ms"].as_f64().is_some(), "{line}");
            assert!(
                text(&line["query"]).contains('.'),
                "a statement name like `projects.insert`: {line}"
            );
            assert_eq!(line["user_id"], user.as_str());
            assert!(
                !line.to_string().contains(&secret_name),
                "no values: {line}"
            );
        }
    }
}

/// A login's tokens: access, refresh.
async fn login(app: &TestApp, email: &str, password: &str) -> (String, String) {
    let login = app
        .post("/api/v1/auth/login")
        .json(&json!({"email": email, "password": password}))
        .send()
        .await;
    let data = &login.json()["data"];
    (text(&data["access_token"]), text(&data["refresh_token"]))
}

async fn refresh(app: &TestApp, token: &str) -> TestResponse {
    app.post("/api/v1/auth/refresh")
        .json(&json!({"refresh_token": token}))
        .send()
        .await
}

#[tokio::test]
async fn no_identity_flow_logs_a_password_token_key_or_email() {
    let app = taskboard_with(TestBackend::Sqlite, |config| {
        // Every statement line too, the most a deployment logs.
        config.database.log_statements = true;
        config.log_request_start = rampart::observability::RequestStartLevel::Info;
    })
    .await;
    let canary = format!("canary-pass-{}", uuid::Uuid::new_v4().simple());
    let email = format!("Canary.{}@Example.com", uuid::Uuid::new_v4().simple());
    let admin_email = format!("admin.{}@example.com", uuid::Uuid::new_v4().simple());
    let mut secrets = vec![canary.clone(), email.clone(), admin_email.clone()];

    let registered = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": email, "password": canary, "display_name": "Canary"}))
        .send()
        .await;
    assert_eq!(registered.status(), 201);
    // The same email again (a conflict), and a wrong password.
    let _ = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": email, "password": canary, "display_name": "Canary"}))
        .send()
        .await;
    assert_error(
        &app.post("/api/v1/auth/login")
            .json(&json!({"email": email, "password": format!("{canary}-wrong")}))
            .send()
            .await,
        401,
        "INVALID_CREDENTIALS",
    );
    let (access, refresh_token) = login(&app, &email, &canary).await;
    let rotated = refresh(&app, &refresh_token).await;
    let rotated_refresh = text(&rotated.json()["data"]["refresh_token"]);
    let rotated_access = text(&rotated.json()["data"]["access_token"]);
    // Reuse of a rotated token: the family is revoked (an audit line).
    let _ = refresh(&app, &refresh_token).await;
    let (access_2, refresh_2) = login(&app, &email, &canary).await;
    secrets.extend([
        access.clone(),
        refresh_token.clone(),
        rotated_refresh,
        rotated_access,
        access_2.clone(),
        refresh_2.clone(),
    ]);

    let created = app
        .post("/api/v1/auth/api-keys")
        .bearer(&access_2)
        .json(&json!({"name": "canary"}))
        .send()
        .await;
    let key = text(&created.json()["data"]["key"]);
    let key_id = text(&created.json()["data"]["info"]["id"]);
    assert!(key.starts_with("rk_"), "{}", created.text());
    secrets.push(key.clone());
    assert_eq!(
        app.get("/api/v1/me")
            .header("x-api-key", &key)
            .send()
            .await
            .status(),
        200
    );
    let revoked = app
        .request(Method::DELETE, &format!("/api/v1/auth/api-keys/{key_id}"))
        .bearer(&access_2)
        .send()
        .await;
    assert_eq!(revoked.status(), 204);
    assert_error(
        &app.get("/api/v1/me").header("x-api-key", &key).send().await,
        401,
        "UNAUTHENTICATED",
    );

    let new_password = format!("{canary}-new");
    secrets.push(new_password.clone());
    let changed = app
        .post("/api/v1/auth/password")
        .bearer(&access_2)
        .json(&json!({"current_password": canary, "new_password": new_password}))
        .send()
        .await;
    assert!(changed.status() < 300, "{}", changed.text());
    let (access_3, refresh_3) = login(&app, &email, &new_password).await;
    secrets.extend([access_3.clone(), refresh_3.clone()]);
    let out = app
        .post("/api/v1/auth/logout")
        .json(&json!({"refresh_token": refresh_3}))
        .send()
        .await;
    assert_eq!(out.status(), 204);

    // Administration: an admin lists users, changes the canary's roles and disables it.
    let created_admin = rampart::identity::ensure_admin(
        app.app(),
        rampart::rbac!(),
        &admin_email,
        PASSWORD.to_owned(),
    )
    .await;
    assert!(created_admin.is_ok());
    let (admin, admin_refresh) = login(&app, &admin_email, PASSWORD).await;
    secrets.extend([admin.clone(), admin_refresh]);
    let me = app.get("/api/v1/me").bearer(&access_3).send().await;
    let user_id = text(&me.json()["data"]["user_id"]);
    assert_eq!(
        app.get("/api/v1/admin/users")
            .bearer(&admin)
            .send()
            .await
            .status(),
        200
    );
    let roles = app
        .request(Method::PUT, &format!("/api/v1/admin/users/{user_id}/roles"))
        .bearer(&admin)
        .json(&json!({"roles": ["member", "auditor"]}))
        .send()
        .await;
    assert_eq!(roles.status(), 200, "{}", roles.text());
    let disabled = app
        .post(&format!("/api/v1/admin/users/{user_id}/disable"))
        .bearer(&admin)
        .send()
        .await;
    assert_eq!(disabled.status(), 204, "{}", disabled.text());

    let logs = logs();
    for secret in &secrets {
        assert!(secret.len() >= 12, "a real value: {secret:?}");
        for form in [secret.clone(), secret.to_lowercase()] {
            assert!(
                !logs.contains(&form),
                "a password, token, key or email reached the logs"
            );
        }
    }
    // The flows were logged (audit lines), just without those values.
    for event in [
        "refresh_family_revoked",
        "api_key_created",
        "login_failed",
        "logout",
    ] {
        assert!(
            logs.contains(&format!("\"event\":\"{event}\"")),
            "audit event {event} logged"
        );
    }
}

#[tokio::test]
async fn metrics_show_the_hashing_queue_and_the_database_pools() {
    let app = taskboard_with(TestBackend::Sqlite, |_| {}).await;
    // A registration and a login: two jobs through the hashing queue.
    let _ = account(&app).await;
    let metrics = app.get("/metrics").send().await.text();
    let value = |series: &str| {
        metrics
            .lines()
            .find(|line| line.starts_with(series))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    assert!(
        value("rampart_password_hash_wait_seconds_count").is_some_and(|n| n >= 2.0),
        "{metrics}"
    );
    assert!(metrics.contains("rampart_password_hash_wait_seconds_bucket{le=\"0.001\"}"));
    // Nothing waits or runs once both answered (other tests' logins may, so only bounded).
    assert!(value("rampart_password_hash_queue_depth").is_some_and(|n| n >= 0.0));
    for state in ["open", "idle", "in_use"] {
        assert!(
            metrics.contains(&format!(
                "db_pool_connections{{pool=\"primary\",state=\"{state}\"}}"
            )),
            "{metrics}"
        );
    }
    assert!(value("db_pool_max_connections{pool=\"primary\"}").is_some_and(|n| n >= 1.0));
}

#[tokio::test]
async fn a_statement_over_the_slow_threshold_is_a_warning() {
    // A zero threshold makes every statement slow: the warn line without timing anything.
    let app = taskboard_with(TestBackend::Sqlite, |config| {
        config.database.log_statements = true;
        config.database.slow_query = std::time::Duration::ZERO;
    })
    .await;
    let id = request_id("slow");
    let listed = app
        .get("/api/v1/projects")
        .bearer(&app.token(&["member"]))
        .header("x-request-id", &id)
        .send()
        .await;
    assert_eq!(listed.status(), 200, "{}", listed.text());
    let statements: Vec<Value> = log_lines_with(&id)
        .into_iter()
        .filter(|line| line["target"] == "rampart::db")
        .collect();
    assert!(!statements.is_empty(), "{}", logs());
    for line in &statements {
        assert_eq!(line["level"], "WARN", "{line}");
        assert_eq!(line["message"], "slow database statement");
        assert!(line["duration_ms"].as_f64().is_some());
    }
}
