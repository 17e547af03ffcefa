//! What the API answers is what it stored, on SQLite and PostgreSQL: every write path's response
//! equals a later GET, byte for byte in `data` (timestamps with nanoseconds, leap seconds, `-0.0`,
//! integers at the `i64` bounds, JSON columns with numbers past 2^53 and hostile strings); JSON
//! columns (`#[resource(json)]`) with nested validation and their OpenAPI schema; a renamed
//! field named the same in responses, inputs and 400s; `If-Match` or a body `version` on PATCH
//! and PUT; `null` for a required field and empty patches change nothing.

use rampart::__private::axum::http::Method;
use rampart::openapi::ApiSchema;
use rampart::prelude::*;
use rampart::testing::{BACKENDS, TestApp, TestBackend, TestResponse};
use serde_json::{Value, json};
use validator::Validate;

use crate::common::assert_error;

/// One line of a gadget's parts list: a nested JSON value, validated.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, validator::Validate, Schema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Part {
    /// Name.
    #[validate(length(min = 1, max = 20))]
    pub(crate) name: String,
    /// How many (any `u64`: past 2^53, where a JSON number stops being exact in JavaScript).
    pub(crate) count: u64,
    /// Weight.
    pub(crate) weight: f64,
}

/// A nested object in a nullable JSON column.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, validator::Validate, Schema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Size {
    /// Width, positive.
    #[validate(range(min = 0.0))]
    pub(crate) width: f64,
    /// Height.
    pub(crate) height: f64,
}

/// A row with every kind of column.
#[resource(
    table = "gadgets",
    owner = owner_id,
    version = version,
    endpoints(path = "/gadgets", role = "member")
)]
#[derive(Debug, Clone)]
pub(crate) struct Gadget {
    /// Id.
    #[resource(id)]
    pub(crate) id: uuid::Uuid,
    /// Owner.
    pub(crate) owner_id: uuid::Uuid,
    /// Name.
    #[validate(length(min = 1, max = 50))]
    pub(crate) name: String,
    /// A field whose JSON name is not its Rust name.
    #[serde(rename = "displayLabel")]
    #[validate(length(max = 10))]
    pub(crate) label: Option<String>,
    /// A float.
    pub(crate) ratio: f64,
    /// A 64-bit integer.
    pub(crate) count: i64,
    /// A required timestamp.
    pub(crate) starts_at: chrono::DateTime<chrono::Utc>,
    /// A nullable timestamp.
    pub(crate) due: Option<chrono::DateTime<chrono::Utc>>,
    /// Parts, up to 5: a JSON array of objects.
    #[resource(json)]
    #[validate(length(max = 5), nested)]
    #[serde(default)]
    pub(crate) parts: Vec<Part>,
    /// A nullable JSON object.
    #[resource(json)]
    #[validate(nested)]
    pub(crate) size: Option<Size>,
    /// Free tags: a JSON array of strings.
    #[resource(json)]
    #[serde(default)]
    pub(crate) tags: Vec<String>,
    /// Version.
    pub(crate) version: i64,
    /// Created.
    pub(crate) created_at: chrono::DateTime<chrono::Utc>,
    /// Changed.
    pub(crate) updated_at: chrono::DateTime<chrono::Utc>,
}

const MIGRATIONS: rampart::Migrations = rampart::Migrations {
    sqlite: &[(
        1,
        "gadgets",
        "CREATE TABLE gadgets (id BLOB PRIMARY KEY NOT NULL, owner_id BLOB NOT NULL, name TEXT NOT NULL, \
         label TEXT, ratio REAL NOT NULL, count INTEGER NOT NULL, starts_at TEXT NOT NULL, due TEXT, \
         parts TEXT NOT NULL, size TEXT, tags TEXT NOT NULL, version INTEGER NOT NULL, \
         created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
    )],
    postgres: &[(
        1,
        "gadgets",
        "CREATE TABLE gadgets (id UUID PRIMARY KEY, owner_id UUID NOT NULL, name TEXT NOT NULL, \
         label TEXT, ratio DOUBLE PRECISION NOT NULL, count BIGINT NOT NULL, starts_at TIMESTAMPTZ NOT NULL, \
         due TIMESTAMPTZ, parts JSONB NOT NULL, size JSONB, tags JSONB NOT NULL, version BIGINT NOT NULL, \
         created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL)",
    )],
};

async fn gadgets(backend: TestBackend) -> TestApp {
    let api = Api::new().resource::<Gadget>();
    match TestApp::builder(api)
        .backend(backend)
        .migrations(MIGRATIONS)
        .build()
        .await
    {
        Ok(app) => app,
        Err(error) => panic!("cannot build the gadgets app on {backend:?}: {error}"),
    }
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    if_match: Option<&str>,
    body: Option<Value>,
) -> TestResponse {
    let mut request = app.request(method, path).bearer(token);
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await
}

/// `data` as text: what "byte for byte" compares.
fn data_text(response: &TestResponse) -> String {
    serde_json::to_string(&response.json()["data"]).unwrap_or_default()
}

/// Asserts a write succeeded and answered exactly what a GET of the same row answers now.
#[track_caller]
fn assert_same(what: &str, write: &TestResponse, read: &TestResponse) {
    assert!(
        (200..300).contains(&write.status()),
        "{what}: {}",
        write.text()
    );
    assert_eq!(read.status(), 200, "{what}: {}", read.text());
    assert_eq!(data_text(write), data_text(read), "{what}: write vs read");
}

/// Hostile but storable: control characters other than tab, LF and CR are refused at the door
/// (`hardening::control_characters_in_string_inputs_are_refused`), so the separators here are
/// the ones a string may hold.
fn hostile_tags() -> Value {
    json!([
        "a\tb\nc\r",
        "comma, separated",
        "\"quoted\" and 'single'",
        "back\\slash",
        "ünïcödé ✓ 漢字 🦀",
        "",
        "\u{2028}\u{2029}\u{feff}"
    ])
}

fn gadget_body() -> Value {
    json!({
        "name": "first",
        "displayLabel": "lbl",
        "ratio": -0.0,
        "count": i64::MAX,
        // Nanoseconds; a leap second; before 2000 (PostgreSQL counts from 2000).
        "starts_at": "2026-03-01T12:34:56.123456789Z",
        "due": "1999-12-31T23:59:59.999999999Z",
        "parts": [
            {"name": "bolt", "count": u64::MAX, "weight": 0.1},
            {"name": "nut", "count": 9_007_199_254_740_993_u64, "weight": -0.0},
            {"name": "gear", "count": 0, "weight": 1e-300}
        ],
        "size": {"width": 1.5, "height": 1e21},
        "tags": hostile_tags()
    })
}

#[tokio::test]
async fn every_write_answers_what_a_later_read_returns() {
    for backend in BACKENDS {
        let app = gadgets(backend).await;
        let alice = app.token(&["member"]);

        let created = send(
            &app,
            Method::POST,
            "/api/v1/gadgets",
            &alice,
            None,
            Some(gadget_body()),
        )
        .await;
        assert_eq!(created.status(), 201, "{backend:?}: {}", created.text());
        let data = created.json()["data"].clone();
        let item = format!(
            "/api/v1/gadgets/{}",
            data["id"].as_str().unwrap_or_default()
        );
        let read = send(&app, Method::GET, &item, &alice, None, None).await;
        assert_same(&format!("{backend:?} create"), &created, &read);
        // Stored at the databases' precision, and answered so.
        assert_eq!(
            data["starts_at"], "2026-03-01T12:34:56.123456Z",
            "{backend:?}"
        );
        assert_eq!(data["due"], "1999-12-31T23:59:59.999999Z", "{backend:?}");
        assert_eq!(data["count"], json!(i64::MAX));
        assert_eq!(data["ratio"], json!(0.0));
        assert_eq!(data["tags"], hostile_tags(), "{backend:?}: tags exactly");
        assert_eq!(data["parts"][0]["count"], json!(u64::MAX), "{backend:?}");
        assert_eq!(data["parts"][1]["count"], json!(9_007_199_254_740_993_u64));
        assert_eq!(data["displayLabel"], "lbl");
        let stamp = data["created_at"].as_str().unwrap_or_default();
        assert!(
            stamp.len() <= "2026-03-01T12:34:56.123456Z".len(),
            "microseconds at most: {stamp}"
        );

        // PATCH: a timestamp with nanoseconds, a leap second, the other i64 bound, JSON edits.
        let patched = send(
            &app,
            Method::PATCH,
            &item,
            &alice,
            None,
            Some(json!({
                "version": 1,
                "starts_at": "2016-12-31T23:59:60.5Z",
                "due": "2030-01-01T00:00:00.000000001+02:00",
                "count": i64::MIN,
                "ratio": 1e-320,
                "tags": ["x\u{2028}y", "z"],
                "size": null,
                "displayLabel": null
            })),
        )
        .await;
        let read = send(&app, Method::GET, &item, &alice, None, None).await;
        assert_same(&format!("{backend:?} patch"), &patched, &read);
        let data = patched.json()["data"].clone();
        assert_eq!(
            data["starts_at"], "2016-12-31T23:59:59.999999Z",
            "{backend:?}"
        );
        assert_eq!(data["due"], "2029-12-31T22:00:00Z", "{backend:?}");
        assert_eq!(data["count"], json!(i64::MIN));
        assert_eq!(data["tags"], json!(["x\u{2028}y", "z"]));
        assert_eq!(data["size"], Value::Null);
        assert_eq!(data["displayLabel"], Value::Null);
        assert_eq!(data["version"], 2);

        // PUT: every writable field.
        let mut body = gadget_body();
        body["version"] = json!(2);
        body["name"] = json!("replaced");
        body["due"] = json!("2026-06-30T23:59:59.999999999Z");
        let replaced = send(&app, Method::PUT, &item, &alice, None, Some(body)).await;
        let read = send(&app, Method::GET, &item, &alice, None, None).await;
        assert_same(&format!("{backend:?} replace"), &replaced, &read);
        assert_eq!(
            replaced.json()["data"]["due"],
            "2026-06-30T23:59:59.999999Z"
        );
        assert_eq!(replaced.json()["data"]["tags"], hostile_tags());

        // A list shows the same row, too.
        let listed = send(&app, Method::GET, "/api/v1/gadgets", &alice, None, None).await;
        assert_eq!(
            serde_json::to_string(&listed.json()["data"][0]).unwrap_or_default(),
            data_text(&read),
            "{backend:?} list"
        );
    }
}

#[tokio::test]
async fn json_columns_validate_their_items_and_document_their_schema() {
    for backend in BACKENDS {
        let app = gadgets(backend).await;
        let alice = app.token(&["member"]);
        let mut body = gadget_body();
        body["parts"][1]["name"] = json!("a name longer than twenty characters");
        body["size"]["width"] = json!(-1.0);
        let refused = send(
            &app,
            Method::POST,
            "/api/v1/gadgets",
            &alice,
            None,
            Some(body),
        )
        .await;
        assert_error(&refused, 400, "VALIDATION_ERROR");
        let fields: Vec<Value> = refused.json()["error"]["details"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|d| d["field"].clone())
            .collect();
        assert_eq!(
            fields,
            vec![json!("parts[1].name"), json!("size.width")],
            "{backend:?}"
        );
        let mut body = gadget_body();
        body["parts"] = json!([{"name": "x", "count": -1, "weight": 0}]);
        let negative = send(
            &app,
            Method::POST,
            "/api/v1/gadgets",
            &alice,
            None,
            Some(body),
        )
        .await;
        assert_error(&negative, 400, "BAD_REQUEST");
        assert_eq!(
            negative.json()["error"]["details"][0]["field"],
            "parts[0].count"
        );
        let listed = send(&app, Method::GET, "/api/v1/gadgets", &alice, None, None).await;
        assert_eq!(listed.json()["meta"]["total"], 0, "nothing stored");
    }

    let schema = serde_json::to_value(<Gadget as ApiSchema>::schema()).unwrap_or_default();
    let properties = &schema["properties"];
    assert_eq!(properties["parts"]["type"], "array", "{schema}");
    assert_eq!(
        properties["parts"]["items"]["properties"]["count"]["type"], "integer",
        "{schema}"
    );
    assert_eq!(properties["tags"]["items"]["type"], "string", "{schema}");
    assert!(
        properties["size"]["oneOf"]
            .as_array()
            .is_some_and(|options| options
                .iter()
                .any(|o| o["properties"]["width"]["type"] == "number")),
        "{schema}"
    );
    assert!(properties.get("displayLabel").is_some(), "{schema}");
    let new = serde_json::to_value(<NewGadget as ApiSchema>::schema()).unwrap_or_default();
    assert!(new["properties"].get("displayLabel").is_some(), "{new}");
    assert!(new["properties"].get("label").is_none(), "{new}");
    assert_eq!(new["properties"]["parts"]["maxItems"], 5, "{new}");
}

#[tokio::test]
async fn a_renamed_field_has_one_name_in_responses_inputs_and_errors() {
    for backend in BACKENDS {
        let app = gadgets(backend).await;
        let alice = app.token(&["member"]);
        let mut body = gadget_body();
        body["displayLabel"] = json!("far too long a label");
        let refused = send(
            &app,
            Method::POST,
            "/api/v1/gadgets",
            &alice,
            None,
            Some(body),
        )
        .await;
        assert_error(&refused, 400, "VALIDATION_ERROR");
        assert_eq!(
            refused.json()["error"]["details"][0]["field"],
            "displayLabel"
        );
        let mut body = gadget_body();
        body.as_object_mut().map(|b| b.remove("displayLabel"));
        body["label"] = json!("x");
        let rust_name = send(
            &app,
            Method::POST,
            "/api/v1/gadgets",
            &alice,
            None,
            Some(body),
        )
        .await;
        assert_error(&rust_name, 400, "BAD_REQUEST");
        assert_eq!(rust_name.json()["error"]["details"][0]["field"], "label");

        let created = send(
            &app,
            Method::POST,
            "/api/v1/gadgets",
            &alice,
            None,
            Some(gadget_body()),
        )
        .await;
        let item = format!(
            "/api/v1/gadgets/{}",
            created.json()["data"]["id"].as_str().unwrap_or_default()
        );
        let patched = send(
            &app,
            Method::PATCH,
            &item,
            &alice,
            Some("\"1\""),
            Some(json!({"displayLabel": "new"})),
        )
        .await;
        assert_eq!(patched.status(), 200, "{backend:?}: {}", patched.text());
        assert_eq!(patched.json()["data"]["displayLabel"], "new");
    }
}

async fn new_project(app: &TestApp, token: &str, name: &str) -> String {
    let created = send(
        app,
        Method::POST,
        "/api/v1/projects",
        token,
        None,
        Some(json!({"name": name})),
    )
    .await;
    assert_eq!(created.status(), 201, "{}", created.text());
    format!(
        "/api/v1/projects/{}",
        created.json()["data"]["id"].as_str().unwrap_or_default()
    )
}

async fn version_of(app: &TestApp, token: &str, path: &str) -> Value {
    send(app, Method::GET, path, token, None, None).await.json()["data"]["version"].clone()
}

/// The five ways a client names the version it read, on one write (PATCH or PUT) of `path`
/// at version 1 with `body` (which has no `version`).
async fn version_cases(app: &TestApp, token: &str, method: Method, path: &str, body: Value) {
    let base = body.clone();
    let with_version = |version: i64| {
        let mut body = base.clone();
        body["version"] = json!(version);
        body
    };
    // Neither: 400 naming `version`; nothing written.
    let neither = send(app, method.clone(), path, token, None, Some(body.clone())).await;
    assert_error(&neither, 400, "BAD_REQUEST");
    assert_eq!(neither.json()["error"]["details"][0]["field"], "version");
    // `If-Match: *` names no version either.
    let any = send(
        app,
        method.clone(),
        path,
        token,
        Some("*"),
        Some(body.clone()),
    )
    .await;
    assert_error(&any, 400, "BAD_REQUEST");
    // Both, disagreeing: 400 saying so.
    let both = send(
        app,
        method.clone(),
        path,
        token,
        Some("\"2\""),
        Some(with_version(1)),
    )
    .await;
    assert_error(&both, 400, "BAD_REQUEST");
    assert!(
        both.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("disagree")),
        "{}",
        both.text()
    );
    assert_eq!(version_of(app, token, path).await, 1, "nothing written");
    // A stale If-Match alone: 412; a stale body version alone: 409.
    let stale_header = send(
        app,
        method.clone(),
        path,
        token,
        Some("\"7\""),
        Some(body.clone()),
    )
    .await;
    assert_error(&stale_header, 412, "PRECONDITION_FAILED");
    let stale_body = send(
        app,
        method.clone(),
        path,
        token,
        None,
        Some(with_version(7)),
    )
    .await;
    assert_error(&stale_body, 409, "VERSION_CONFLICT");
    assert_eq!(version_of(app, token, path).await, 1, "nothing written");
    // If-Match alone: applied.
    let applied = send(app, method.clone(), path, token, Some("\"1\""), Some(body)).await;
    assert_eq!(applied.status(), 200, "{method}: {}", applied.text());
    assert_eq!(applied.json()["data"]["version"], 2);
    assert_eq!(applied.header("etag"), Some("\"2\""));
    // Both, agreeing: applied too.
    let agreeing = send(
        app,
        method.clone(),
        path,
        token,
        Some("\"2\""),
        Some(with_version(2)),
    )
    .await;
    assert_eq!(agreeing.status(), 200, "{method}: {}", agreeing.text());
    assert_eq!(agreeing.json()["data"]["version"], 3);
}

#[tokio::test]
async fn if_match_or_body_version_carries_the_version_of_a_write() {
    for backend in BACKENDS {
        let app = crate::common::taskboard(backend).await;
        let alice = app.token(&["member"]);
        let project = new_project(&app, &alice, "for patch").await;
        version_cases(
            &app,
            &alice,
            Method::PATCH,
            &project,
            json!({"description": "d"}),
        )
        .await;
        let project = new_project(&app, &alice, "for put").await;
        version_cases(
            &app,
            &alice,
            Method::PUT,
            &project,
            json!({"name": "for put", "description": "d"}),
        )
        .await;
        // The hand-written task PATCH goes through the same store.
        let created = send(
            &app,
            Method::POST,
            &format!("{project}/tasks"),
            &alice,
            None,
            Some(json!({"title": "t"})),
        )
        .await;
        let task = format!(
            "/api/v1/tasks/{}",
            created.json()["data"]["id"].as_str().unwrap_or_default()
        );
        version_cases(&app, &alice, Method::PATCH, &task, json!({"done": true})).await;
    }

    // The OpenAPI schemas tell the same: `version` is not required, and they say why.
    use crate::taskboard::projects::{ProjectPatch, ProjectReplace, TaskPatch, TaskReplace};
    let schemas = [
        ("ProjectPatch", <ProjectPatch as ApiSchema>::schema()),
        ("ProjectReplace", <ProjectReplace as ApiSchema>::schema()),
        ("TaskPatch", <TaskPatch as ApiSchema>::schema()),
        ("TaskReplace", <TaskReplace as ApiSchema>::schema()),
    ];
    for (name, schema) in schemas {
        let schema = serde_json::to_value(schema).unwrap_or_default();
        let required = schema["required"].as_array().cloned().unwrap_or_default();
        assert!(!required.contains(&json!("version")), "{name}: {schema}");
        let described = schema["properties"]["version"].to_string();
        assert!(described.contains("If-Match"), "{name}: {described}");
        assert_eq!(schema["properties"]["version"]["type"], "integer", "{name}");
    }
}

#[tokio::test]
async fn null_for_a_required_field_and_empty_patches_change_nothing() {
    for backend in BACKENDS {
        let app = crate::common::taskboard(backend).await;
        let alice = app.token(&["member"]);
        let project = new_project(&app, &alice, "p").await;
        let before = send(&app, Method::GET, &project, &alice, None, None).await;

        // `null` for a required field: 400 naming it, nothing written, no new version.
        for body in [
            json!({"name": null, "version": 1}),
            json!({"name": null, "description": "x", "version": 1}),
        ] {
            let refused = send(&app, Method::PATCH, &project, &alice, None, Some(body)).await;
            assert_error(&refused, 400, "BAD_REQUEST");
            assert_eq!(refused.json()["error"]["details"][0]["field"], "name");
        }
        let created = send(
            &app,
            Method::POST,
            &format!("{project}/tasks"),
            &alice,
            None,
            Some(json!({"title": "t"})),
        )
        .await;
        let task = format!(
            "/api/v1/tasks/{}",
            created.json()["data"]["id"].as_str().unwrap_or_default()
        );
        for field in ["title", "done"] {
            let mut body = json!({"version": 1});
            body[field] = Value::Null;
            let refused = send(&app, Method::PATCH, &task, &alice, None, Some(body)).await;
            assert_error(&refused, 400, "BAD_REQUEST");
            assert_eq!(refused.json()["error"]["details"][0]["field"], field);
        }
        // `null` for a nullable field still clears it.
        let cleared = send(
            &app,
            Method::PATCH,
            &task,
            &alice,
            None,
            Some(json!({"due": null, "version": 1})),
        )
        .await;
        assert_eq!(cleared.status(), 200, "{}", cleared.text());
        assert_eq!(cleared.json()["data"]["version"], 2);

        // Nothing to change: the current row, no write, no new version — with the same
        // preconditions as a write.
        for (if_match, body) in [(None, json!({"version": 1})), (Some("\"1\""), json!({}))] {
            let unchanged = send(&app, Method::PATCH, &project, &alice, if_match, Some(body)).await;
            assert_eq!(unchanged.status(), 200, "{backend:?}: {}", unchanged.text());
            assert_eq!(unchanged.header("etag"), Some("\"1\""));
            assert_eq!(data_text(&unchanged), data_text(&before), "{backend:?}");
        }
        let stale = send(
            &app,
            Method::PATCH,
            &project,
            &alice,
            None,
            Some(json!({"version": 5})),
        )
        .await;
        assert_error(&stale, 409, "VERSION_CONFLICT");
        let stale = send(
            &app,
            Method::PATCH,
            &project,
            &alice,
            Some("\"5\""),
            Some(json!({})),
        )
        .await;
        assert_error(&stale, 412, "PRECONDITION_FAILED");
        let neither = send(&app, Method::PATCH, &project, &alice, None, Some(json!({}))).await;
        assert_error(&neither, 400, "BAD_REQUEST");
        // `version` is an integer when given: `null` is not "left out".
        let null_version = send(
            &app,
            Method::PATCH,
            &project,
            &alice,
            Some("\"1\""),
            Some(json!({"version": null})),
        )
        .await;
        assert_error(&null_version, 400, "BAD_REQUEST");
        assert_eq!(
            null_version.json()["error"]["details"][0]["field"],
            "version"
        );
        let bob = app.token(&["member"]);
        let not_yours = send(
            &app,
            Method::PATCH,
            &project,
            &bob,
            None,
            Some(json!({"version": 1})),
        )
        .await;
        assert_error(&not_yours, 404, "NOT_FOUND");
        let after = send(&app, Method::GET, &project, &alice, None, None).await;
        assert_eq!(
            data_text(&after),
            data_text(&before),
            "{backend:?}: unchanged"
        );
    }
}

/// The taskboard's note tags were one text joined with U+001F; they are a JSON array now.
#[tokio::test]
async fn note_tags_round_trip_exactly() {
    let tags = [
        "a\tb",
        "comma, separated",
        "\"quoted\"",
        "back\\slash",
        "ünï ✓ 漢字 🦀",
        "\r\n",
    ];
    for backend in BACKENDS {
        let app = crate::common::taskboard(backend).await;
        let alice = app.token(&["member"]);
        let body = json!({
            "title": "t",
            "tags": tags.iter().map(|name| json!({"name": name})).collect::<Vec<_>>()
        });
        let created = send(
            &app,
            Method::POST,
            "/api/v1/notes",
            &alice,
            None,
            Some(body),
        )
        .await;
        assert_eq!(created.status(), 201, "{backend:?}: {}", created.text());
        assert_eq!(created.json()["data"]["tags"], json!(tags), "{backend:?}");
        let path = format!(
            "/api/v1/notes/{}",
            created.json()["data"]["id"].as_str().unwrap_or_default()
        );
        let read = send(&app, Method::GET, &path, &alice, None, None).await;
        assert_same(&format!("{backend:?} note"), &created, &read);
        let listed = send(&app, Method::GET, "/api/v1/notes", &alice, None, None).await;
        assert_eq!(listed.json()["data"][0]["tags"], json!(tags), "{backend:?}");
        // The old separator itself is a control character: refused, naming the tag.
        let separator = send(
            &app,
            Method::POST,
            "/api/v1/notes",
            &alice,
            None,
            Some(json!({"title": "t", "tags": [{"name": "a\u{1f}b"}]})),
        )
        .await;
        assert_eq!(separator.status(), 400, "{backend:?}: {}", separator.text());
        assert_eq!(
            separator.json()["error"]["details"][0]["field"],
            "tags[0].name"
        );
    }
}

/// A database made before tags were JSON still starts, and its tags read as they were.
#[tokio::test]
async fn an_existing_taskboard_database_migrates_its_tags() {
    const BEFORE_JSON_TAGS: rampart::Migrations = rampart::Migrations {
        sqlite: &[
            crate::taskboard::MIGRATIONS.sqlite[0],
            crate::taskboard::MIGRATIONS.sqlite[1],
        ],
        postgres: &[
            crate::taskboard::MIGRATIONS.postgres[0],
            crate::taskboard::MIGRATIONS.postgres[1],
        ],
    };
    for backend in BACKENDS {
        let test_db = match rampart::testing::TestDb::create(backend).await {
            Ok(db) => db,
            Err(error) => panic!("{backend:?}: {error}"),
        };
        let owner = uuid::Uuid::now_v7();
        let notes = [
            (
                uuid::Uuid::now_v7(),
                "work\u{1f}home\u{1f}ünï",
                json!(["work", "home", "ünï"]),
            ),
            (uuid::Uuid::now_v7(), "", json!([])),
            (uuid::Uuid::now_v7(), "one", json!(["one"])),
        ];
        {
            let db = match Db::connect(&rampart::DbConfig::new(test_db.url())).await {
                Ok(db) => db,
                Err(error) => panic!("{backend:?}: {error}"),
            };
            assert!(db.migrate(&BEFORE_JSON_TAGS).await.is_ok(), "{backend:?}");
            for (id, tags, _) in &notes {
                let insert = "INSERT INTO notes (id, owner_id, title, body, tags, created_at) VALUES ($1, $2, 'old', '', $3, $4)";
                let inserted = rampart::with_pool!(db.primary(), |pool| sqlx::query(insert)
                    .bind(*id)
                    .bind(owner)
                    .bind(*tags)
                    .bind(rampart::resource::now())
                    .execute(pool)
                    .await
                    .map(|_| ()));
                assert!(inserted.is_ok(), "{backend:?}: {inserted:?}");
            }
        }
        let app = match crate::common::taskboard_builder()
            .database_url(test_db.url())
            .migrations(crate::taskboard::MIGRATIONS)
            .with_identity()
            .build()
            .await
        {
            Ok(app) => app,
            Err(error) => panic!("{backend:?}: the old database does not start: {error}"),
        };
        let token = app.token_for(owner, &["member"]);
        for (id, _, expected) in &notes {
            let read = send(
                &app,
                Method::GET,
                &format!("/api/v1/notes/{id}"),
                &token,
                None,
                None,
            )
            .await;
            assert_eq!(read.status(), 200, "{backend:?}: {}", read.text());
            assert_eq!(read.json()["data"]["tags"], *expected, "{backend:?}");
        }
    }
}

/// `rename_all` on the struct names the inputs like the response.
#[resource(table = "widgets")]
#[serde(rename_all = "camelCase")]
#[derive(Debug, Clone)]
pub(crate) struct Widget {
    /// Id.
    #[resource(id)]
    pub(crate) id: uuid::Uuid,
    /// A two-word name.
    #[validate(length(min = 1))]
    pub(crate) full_name: String,
    /// A nullable two-word name.
    pub(crate) short_name: Option<String>,
}

#[test]
fn rename_all_applies_to_the_inputs() {
    let new: Result<NewWidget, _> = serde_json::from_value(json!({"fullName": "  W  "}));
    let new = new.unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(new.fullName, "W", "trimmed as before");
    let snake: Result<NewWidget, _> = serde_json::from_value(json!({"full_name": "W"}));
    assert!(snake.is_err_and(|e| e.to_string().contains("unknown field `full_name`")));
    let blank: NewWidget =
        serde_json::from_value(json!({"fullName": " "})).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        blank
            .validate()
            .is_err_and(|errors| errors.field_errors().contains_key("fullName")),
        "the 400 names the JSON field"
    );
    let patch: Result<WidgetPatch, _> = serde_json::from_value(json!({"shortName": null}));
    assert_eq!(patch.map(|p| p.shortName).ok(), Some(Some(None)));
    let shown = serde_json::to_value(Widget {
        id: uuid::Uuid::nil(),
        full_name: "W".into(),
        short_name: None,
    })
    .unwrap_or_default();
    assert_eq!(
        shown,
        json!({"id": uuid::Uuid::nil(), "fullName": "W", "shortName": null})
    );
    let schema = serde_json::to_value(<WidgetPatch as ApiSchema>::schema()).unwrap_or_default();
    assert!(schema["properties"].get("shortName").is_some(), "{schema}");
}

/// Identity answers the timestamps it stored: a registered account's `created_at` as the admin
/// list shows it, an API key's as the key list shows it.
#[tokio::test]
async fn identity_answers_the_timestamps_it_stored() {
    for backend in BACKENDS {
        let app = crate::common::taskboard(backend).await;
        let email = format!("t.{}@example.com", uuid::Uuid::new_v4().simple());
        let password = "correct horse battery staple";
        let registered = app
            .post("/api/v1/auth/register")
            .json(&json!({"email": email, "password": password, "display_name": "T"}))
            .send()
            .await;
        assert_eq!(registered.status(), 201, "{}", registered.text());
        let user = registered.json()["data"].clone();
        let admin = app.token(&["admin"]);
        let users = send(
            &app,
            Method::GET,
            "/api/v1/admin/users?per_page=100",
            &admin,
            None,
            None,
        )
        .await;
        assert_eq!(users.status(), 200, "{}", users.text());
        let listed = users.json()["data"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .find(|u| u["id"] == user["id"])
            .unwrap_or_default();
        assert!(user["created_at"].is_string(), "{user}");
        assert_eq!(listed["created_at"], user["created_at"], "{backend:?}");

        let login = app
            .post("/api/v1/auth/login")
            .json(&json!({"email": email, "password": password}))
            .send()
            .await;
        let access = login.json()["data"]["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let key = send(
            &app,
            Method::POST,
            "/api/v1/auth/api-keys",
            &access,
            None,
            Some(json!({"name": "k"})),
        )
        .await;
        assert_eq!(key.status(), 201, "{}", key.text());
        assert!(
            key.json()["data"]["info"]["created_at"].is_string(),
            "{}",
            key.text()
        );
        let keys = send(
            &app,
            Method::GET,
            "/api/v1/auth/api-keys",
            &access,
            None,
            None,
        )
        .await;
        assert_eq!(
            keys.json()["data"]["keys"][0]["created_at"],
            key.json()["data"]["info"]["created_at"],
            "{backend:?}: {}",
            keys.text()
        );
    }
}
