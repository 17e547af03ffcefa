//! Issue 9 hardening, through the real router: `/metrics` exposure in production, cursor keys
//! shared by instances, start-up warnings in the log, lookalike identities and control
//! characters in string inputs.

use rampart::prelude::*;
use rampart::testing::{BACKENDS, TestApp, TestBackend, TestResponse};
use rampart::{Config, Environment};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{assert_error, taskboard};

const PASSWORD: &str = "correct horse battery staple";
const METRICS_TOKEN: &str = "metrics-token-for-the-tests";

async fn taskboard_with(
    backend: TestBackend,
    change: impl FnOnce(&mut Config) + Send + 'static,
) -> TestApp {
    // A production app with jobs needs a real queue: Redis, under a prefix of its own.
    let redis = std::env::var("RAMPART_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    crate::common::taskboard_builder()
        .backend(backend)
        .migrations(crate::taskboard::MIGRATIONS)
        .with_identity()
        .redis(
            redis,
            format!("hardening-{}:", uuid::Uuid::new_v4().simple()),
        )
        .configure(change)
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Item 10: production serves `/metrics` on the main listener only behind `METRICS_TOKEN`.
#[tokio::test]
async fn metrics_in_production_need_a_token_or_their_own_listener() {
    let bare = taskboard_with(TestBackend::Sqlite, |c| {
        c.environment = Environment::Production;
    })
    .await;
    assert_error(&bare.get("/metrics").send().await, 404, "NOT_FOUND");

    let guarded = taskboard_with(TestBackend::Sqlite, |c| {
        c.environment = Environment::Production;
        c.metrics_token = Some(METRICS_TOKEN.to_owned());
    })
    .await;
    assert_error(
        &guarded.get("/metrics").send().await,
        401,
        "UNAUTHENTICATED",
    );
    let wrong = guarded
        .get("/metrics")
        .bearer("metrics-token-for-the-testz")
        .send()
        .await;
    assert_error(&wrong, 401, "UNAUTHENTICATED");
    let short = guarded.get("/metrics").bearer("m").send().await;
    assert_error(&short, 401, "UNAUTHENTICATED");
    let ok = guarded.get("/metrics").bearer(METRICS_TOKEN).send().await;
    assert_eq!(ok.status(), 200, "{}", ok.text());
    assert!(ok.text().contains("# TYPE"), "{}", ok.text());

    // Development keeps /metrics open on the main listener.
    let development = taskboard(TestBackend::Sqlite).await;
    assert_eq!(development.get("/metrics").send().await.status(), 200);
}

/// Item 10: with `METRICS_BIND`, `/metrics` is on its own listener and not on the main one.
#[tokio::test]
async fn metrics_bind_serves_metrics_on_a_separate_listener() {
    let app = taskboard_with(TestBackend::Sqlite, |c| {
        c.environment = Environment::Production;
        c.metrics_bind = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    })
    .await;
    assert_error(&app.get("/metrics").send().await, 404, "NOT_FOUND");
    let served = rampart::api::serve_metrics(app.app()).await;
    let Ok(Some((address, task))) = served else {
        panic!("the metrics listener did not start: {served:?}");
    };
    let fetch = |path: &'static str| async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(address)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let request = format!("GET {path} HTTP/1.1\r\nHost: metrics\r\nConnection: close\r\n\r\n");
        stream
            .write_all(request.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        response
    };
    let metrics = fetch("/metrics").await;
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(metrics.contains("# TYPE"), "{metrics}");
    let other = fetch("/api/v1/info").await;
    assert!(
        other.starts_with("HTTP/1.1 404"),
        "only /metrics there: {other}"
    );
    task.abort();
}

async fn cursor_of_first_page(app: &TestApp, token: &str) -> (String, String) {
    let project = app
        .post("/api/v1/projects")
        .bearer(token)
        .json(&json!({"name": "shared"}))
        .send()
        .await;
    assert_eq!(project.status(), 201, "{}", project.text());
    let pid = project.json()["data"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let list = format!("/api/v1/projects/{pid}/tasks");
    for title in ["a", "b", "c"] {
        let created = app
            .post(&list)
            .bearer(token)
            .json(&json!({"title": title}))
            .send()
            .await;
        assert_eq!(created.status(), 201, "{}", created.text());
    }
    let first = app
        .get(&format!("{list}?per_page=2"))
        .bearer(token)
        .send()
        .await;
    assert_eq!(first.status(), 200, "{}", first.text());
    let cursor = first.json()["meta"]["next_cursor"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!cursor.is_empty(), "{}", first.text());
    (list, cursor)
}

/// Item 11: two instances configured with the same `RAMPART_CURSOR_SECRET` accept each
/// other's cursors (and a rotated instance still accepts the previous secret's); another
/// secret refuses them.
#[tokio::test]
async fn instances_sharing_a_cursor_secret_accept_each_others_cursors() {
    let shared = b"a-cursor-secret-shared-by-instances!".to_vec();
    let first_secret = shared.clone();
    let first = taskboard_with(TestBackend::Sqlite, move |c| c.cursor_secret = first_secret).await;
    let token = first.token(&["member"]);
    let (list, cursor) = cursor_of_first_page(&first, &token).await;
    let url = first.app().config().database.url.clone();
    let other_instance = |secret: Vec<u8>, previous: Option<Vec<u8>>| {
        crate::common::taskboard_builder()
            .database_url(url.clone())
            .migrations(crate::taskboard::MIGRATIONS)
            .with_identity()
            .configure(move |c| {
                c.cursor_secret = secret;
                c.cursor_previous_secret = previous;
            })
            .build()
    };
    let next = format!("{list}?per_page=2&cursor={cursor}");
    let second = other_instance(shared.clone(), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let page = second.get(&next).bearer(&token).send().await;
    assert_eq!(page.status(), 200, "{}", page.text());
    assert_eq!(page.json()["data"][0]["title"], "c", "{}", page.text());

    let rotated = other_instance(
        b"the-next-cursor-secret-after-rotation".to_vec(),
        Some(shared),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rotated.get(&next).bearer(&token).send().await.status(), 200);

    let stranger = other_instance(b"a-cursor-secret-of-another-deployment".to_vec(), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let refused = stranger.get(&next).bearer(&token).send().await;
    assert_error(&refused, 400, "BAD_REQUEST");
}

/// Item 11: production without a cursor secret does not start.
#[test]
fn production_without_a_cursor_secret_does_not_start() {
    let error = Config::from_lookup(&|name| match name {
        "RAMPART_ENV" => Some("production".to_owned()),
        "JWT_SECRET" => Some("x".repeat(32)),
        _ => None,
    })
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(
        error.contains("RAMPART_CURSOR_SECRET is required in production"),
        "{error}"
    );
}

/// Item 12: warnings found while reading the configuration (here: a generated JWT secret)
/// reach the log, once logging is up, when the app is built.
#[test]
fn start_up_warnings_reach_the_log() {
    rampart::testing::capture_logs();
    let config = Config::from_lookup(&|_| None).unwrap_or_else(|e| panic!("{e}"));
    let count = || {
        rampart::testing::logs()
            .lines()
            .filter(|line| line.contains("JWT_SECRET not set") && line.contains("\"WARN\""))
            .count()
    };
    let before = count();
    assert!(
        config
            .warnings
            .iter()
            .any(|w| w.starts_with("JWT_SECRET not set"))
    );
    let _app = rampart::App::new(config, None);
    assert_eq!(count(), before + 1, "{}", rampart::testing::logs());
}

async fn register(app: &TestApp, email: &str) -> TestResponse {
    app.post("/api/v1/auth/register")
        .json(&json!({"email": email, "password": PASSWORD, "display_name": "Alice"}))
        .send()
        .await
}

fn fullwidth(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c),
            other => other,
        })
        .collect()
}

fn field_of(response: &TestResponse) -> Value {
    response.json()["error"]["details"][0]["field"].clone()
}

/// Item 13: lookalike emails are refused or collide with the account they imitate.
#[tokio::test]
async fn lookalike_emails_are_refused_or_normalised_before_uniqueness() {
    for backend in BACKENDS {
        let app = taskboard(backend).await;
        let local = format!("alice.{}", uuid::Uuid::new_v4().simple());
        let email = format!("{local}@example.com");
        assert_eq!(register(&app, &email).await.status(), 201, "{backend:?}");
        for lookalike in [
            format!("{local}@exam\u{200b}ple.com"),
            format!("{local}@exa\u{ad}mple.com"),
            format!("{local}\u{200d}@example.com"),
            format!("\u{feff}{local}@example.com"),
        ] {
            let refused = register(&app, &lookalike).await;
            assert_eq!(
                refused.status(),
                400,
                "{backend:?} {lookalike:?}: {}",
                refused.text()
            );
            assert_eq!(field_of(&refused), "email", "{}", refused.text());
        }
        for same in [
            format!("{} ", email.to_uppercase()),
            format!("{}@example.com", fullwidth(&local)),
        ] {
            let taken = register(&app, &same).await;
            assert_eq!(
                taken.status(),
                409,
                "{backend:?} {same:?}: {}",
                taken.text()
            );
            let login = app
                .post("/api/v1/auth/login")
                .json(&json!({"email": same, "password": PASSWORD}))
                .send()
                .await;
            assert_eq!(
                login.status(),
                200,
                "{backend:?} {same:?}: {}",
                login.text()
            );
        }
        let idn = register(&app, &format!("{local}@Bücher.example")).await;
        assert_eq!(idn.status(), 201, "{backend:?}: {}", idn.text());
        assert_eq!(
            idn.json()["data"]["email"],
            format!("{local}@xn--bcher-kva.example")
        );
        let again = register(&app, &format!("{local}@xn--bcher-kva.example")).await;
        assert_eq!(again.status(), 409, "{backend:?}: {}", again.text());
    }
}

/// Item 13: control characters other than tab, LF and CR are refused in string inputs, hand
/// written (`Json<NewNote>`) and generated by `#[resource]` alike, the error naming the field.
#[tokio::test]
async fn control_characters_in_string_inputs_are_refused() {
    for backend in BACKENDS {
        let app = taskboard(backend).await;
        let token = app.token(&["member"]);
        let bell = app
            .post("/api/v1/notes")
            .bearer(&token)
            .json(&json!({"title": "ring \u{7} ring"}))
            .send()
            .await;
        assert_eq!(bell.status(), 400, "{backend:?}: {}", bell.text());
        assert_eq!(field_of(&bell), "title", "{}", bell.text());
        let nested = app
            .post("/api/v1/notes")
            .bearer(&token)
            .json(&json!({"title": "ok", "tags": [{"name": "a"}, {"name": "b\u{85}"}]}))
            .send()
            .await;
        assert_eq!(nested.status(), 400, "{backend:?}: {}", nested.text());
        assert_eq!(field_of(&nested), "tags[1].name", "{}", nested.text());
        let fine = app
            .post("/api/v1/notes")
            .bearer(&token)
            .json(&json!({"title": "tab\there", "body": "line one\nline two\r\n"}))
            .send()
            .await;
        assert_eq!(fine.status(), 201, "{backend:?}: {}", fine.text());
        assert_eq!(fine.json()["data"]["body"], "line one\nline two\r\n");
        let project = app
            .post("/api/v1/projects")
            .bearer(&token)
            .json(&json!({"name": "esc \u{1b}[2J"}))
            .send()
            .await;
        assert_eq!(project.status(), 400, "{backend:?}: {}", project.text());
        assert_eq!(field_of(&project), "name", "{}", project.text());
    }
}

/// A captured terminal session: its `output` may hold escape sequences, its `name` may not.
#[resource(table = "terminal_logs", owner = owner_id,
           endpoints(path = "/terminal-logs", role = "member"))]
#[derive(Debug, Clone)]
pub(crate) struct TerminalLog {
    #[resource(id)]
    pub(crate) id: Uuid,
    pub(crate) owner_id: Uuid,
    #[validate(length(min = 1, max = 50))]
    pub(crate) name: String,
    #[resource(allow_control)]
    pub(crate) output: String,
}

const TERMINAL_LOGS: rampart::Migrations = rampart::Migrations {
    sqlite: &[(
        1,
        "terminal logs",
        "CREATE TABLE terminal_logs (id BLOB PRIMARY KEY NOT NULL, owner_id BLOB NOT NULL, name TEXT NOT NULL, output TEXT NOT NULL)",
    )],
    postgres: &[(
        1,
        "terminal logs",
        "CREATE TABLE terminal_logs (id UUID PRIMARY KEY, owner_id UUID NOT NULL, name TEXT NOT NULL, output TEXT NOT NULL)",
    )],
};

/// Item 13: a field opts out of the control-character refusal (`#[resource(allow_control)]`
/// on a resource, `rampart::text::allow_control` on a hand-written input); its neighbours
/// do not.
#[tokio::test]
async fn a_field_can_opt_out_of_the_control_character_refusal() {
    for backend in BACKENDS {
        let app = TestApp::builder(Api::new().resource::<TerminalLog>())
            .backend(backend)
            .migrations(TERMINAL_LOGS)
            .build()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let token = app.token(&["member"]);
        let create = |body: Value| {
            app.post("/api/v1/terminal-logs")
                .bearer(&token)
                .json(&body)
                .send()
        };
        let stored =
            create(json!({"name": "build", "output": "\u{1b}[31mred\u{1b}[0m\u{7}"})).await;
        assert_eq!(stored.status(), 201, "{backend:?}: {}", stored.text());
        assert_eq!(
            stored.json()["data"]["output"],
            "\u{1b}[31mred\u{1b}[0m\u{7}"
        );
        let id = stored.json()["data"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let read = app
            .get(&format!("/api/v1/terminal-logs/{id}"))
            .bearer(&token)
            .send()
            .await;
        assert_eq!(read.json()["data"]["output"], "\u{1b}[31mred\u{1b}[0m\u{7}");
        let refused = create(json!({"name": "bu\u{1b}ild", "output": ""})).await;
        assert_eq!(refused.status(), 400, "{backend:?}: {}", refused.text());
        assert_eq!(field_of(&refused), "name", "{}", refused.text());
    }
}
