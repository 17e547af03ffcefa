//! The OWASP API Security Top 10 (2023) as black-box regression tests against the taskboard,
//! named by item. docs/security.md maps every item to its tests (API5's matrix lives in
//! `role_matrix.rs`; API7 and API10 do not apply to a rampart app, and the document says why).

use rampart::__private::axum::http::Method;
use rampart::testing::{BACKENDS, TestApp, TestBackend, TestResponse};
use serde_json::{Value, json};

use crate::common::{TEST_SECRET, assert_error, claims, sign, taskboard};

const PASSWORD: &str = "correct horse battery staple";

struct User {
    token: String,
    id: String,
}

async fn user(app: &TestApp, name: &str) -> User {
    let account = crate::common::account(app, name).await;
    User {
        token: account.access,
        id: account.id.to_string(),
    }
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> TestResponse {
    let mut request = app.request(method, path).bearer(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await
}

async fn created_id(app: &TestApp, path: &str, token: &str, body: Value) -> String {
    let response = call(app, Method::POST, path, token, Some(body)).await;
    assert!(
        matches!(response.status(), 200 | 201),
        "{path}: {}",
        response.text()
    );
    let data = &response.json()["data"];
    data["id"].as_str().unwrap_or_default().to_owned()
}

/// A body that would be valid for the route, so that only authorization can refuse it.
fn body_for(method: &Method, path: &str) -> Option<Value> {
    match (method.as_str(), path) {
        // Clearing it: no destination to check, so only the owner decides.
        ("PUT", p) if p.ends_with("/webhook") => Some(json!({"url": null})),
        ("PUT", p) if p.starts_with("/api/v1/projects/") => {
            Some(json!({"name": "mine", "version": 1}))
        }
        ("PATCH", p) if p.starts_with("/api/v1/projects/") => {
            Some(json!({"name": "mine", "version": 1}))
        }
        ("PATCH", p) if p.starts_with("/api/v1/tasks/") => {
            Some(json!({"done": true, "version": 1}))
        }
        ("POST", p) if p.ends_with("/tasks") => Some(json!({"title": "planted"})),
        ("PUT", p) if p.ends_with("/roles") => Some(json!({"roles": ["member"]})),
        _ => None,
    }
}

/// API1: every route that takes an object id, called by another user with the owner's ids, is
/// a 404 (403 on admin routes, which the caller cannot use at all), and the objects stay as
/// they were. A route added without an entry here fails the test.
#[tokio::test]
async fn api1_bola_every_id_route_refuses_another_users_objects() {
    for backend in BACKENDS {
        let app = taskboard(backend).await;
        let alice = user(&app, "alice").await;
        let bob = user(&app, "bob").await;
        let note = created_id(&app, "/api/v1/notes", &alice.token, json!({"title": "n"})).await;
        let project =
            created_id(&app, "/api/v1/projects", &alice.token, json!({"name": "p"})).await;
        let task = created_id(
            &app,
            &format!("/api/v1/projects/{project}/tasks"),
            &alice.token,
            json!({"title": "t"}),
        )
        .await;
        let key = created_id(
            &app,
            "/api/v1/auth/api-keys",
            &alice.token,
            json!({"name": "k"}),
        )
        .await;

        let export = {
            let accepted = call(
                &app,
                Method::POST,
                &format!("/api/v1/projects/{project}/exports"),
                &alice.token,
                None,
            )
            .await;
            assert_eq!(accepted.status(), 202, "{}", accepted.text());
            accepted.json()["data"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        };
        // A dead job of alice's doing: the dead-letter routes take its id.
        let dead = uuid::Uuid::now_v7().to_string();

        let mut checked = 0;
        for (path, def) in crate::taskboard::api().endpoints() {
            if !path.contains('{') {
                continue;
            }
            let (id, expected) = if path.starts_with("/api/v1/notes/") {
                (&note, 404)
            } else if path.starts_with("/api/v1/projects/") {
                (&project, 404)
            } else if path.starts_with("/api/v1/tasks/") {
                (&task, 404)
            } else if path.starts_with("/api/v1/auth/api-keys/") {
                (&key, 404)
            } else if path.starts_with("/api/v1/admin/users/") {
                (&alice.id, 403)
            } else if path.starts_with("/api/v1/admin/jobs/dead/") {
                (&dead, 403)
            } else {
                panic!(
                    "{} {path}: a new id route; say whose object it takes",
                    def.method
                );
            };
            // Every id parameter is the owner's, not only `{id}`.
            let concrete = path.replace("{id}", id).replace("{export_id}", &export);
            assert!(
                !concrete.contains('{'),
                "{} {path}: a new id parameter; say whose object it takes",
                def.method
            );
            let response = call(
                &app,
                def.method.clone(),
                &concrete,
                &bob.token,
                body_for(&def.method, &concrete),
            )
            .await;
            assert_eq!(
                response.status(),
                expected,
                "{backend:?} {} {concrete}: {}",
                def.method,
                response.text()
            );
            checked += 1;
        }
        assert!(checked >= 15, "every id route was walked ({checked})");

        // Still there, unchanged, for their owner.
        for path in [
            format!("/api/v1/notes/{note}"),
            format!("/api/v1/projects/{project}"),
            format!("/api/v1/tasks/{task}"),
        ] {
            let response = call(&app, Method::GET, &path, &alice.token, None).await;
            assert_eq!(response.status(), 200, "{path}");
            if let Some(version) = response.json()["data"]["version"].as_i64() {
                assert_eq!(version, 1, "{path} unchanged");
            }
        }
        let tasks = call(
            &app,
            Method::GET,
            &format!("/api/v1/projects/{project}/tasks"),
            &alice.token,
            None,
        )
        .await;
        assert_eq!(tasks.json()["meta"]["total"], 1, "nothing planted");
        let keys = call(
            &app,
            Method::GET,
            "/api/v1/auth/api-keys",
            &alice.token,
            None,
        )
        .await;
        assert_eq!(
            keys.json()["data"]["keys"]
                .as_array()
                .map(Vec::len)
                .or(keys.json()["data"].as_array().map(Vec::len)),
            Some(1),
            "{}",
            keys.text()
        );
    }
}

/// A case name, an `Authorization` value, another header.
type BadCredential = (&'static str, Option<String>, Option<(&'static str, String)>);

/// API2: credentials that are missing, malformed, unsigned, signed with another key, expired,
/// or sent in the query string are all the same 401 with `WWW-Authenticate`.
#[tokio::test]
async fn api2_broken_authentication_every_bad_credential_is_401() {
    for backend in BACKENDS {
        api2_broken_authentication_every_bad_credential_is_401_on(backend).await;
    }
}

async fn api2_broken_authentication_every_bad_credential_is_401_on(backend: TestBackend) {
    let app = taskboard(backend).await;
    let mut expired = claims();
    expired["exp"] = json!(crate::common::now() - 3600);
    expired["iat"] = json!(crate::common::now() - 7200);
    expired["nbf"] = json!(crate::common::now() - 7200);
    let unsigned = {
        let token = sign(&claims(), TEST_SECRET);
        let payload = token.split('.').nth(1).unwrap_or_default().to_owned();
        format!(
            "{}.{payload}.",
            crate::common::b64(br#"{"alg":"none","typ":"JWT"}"#)
        )
    };
    let cases: Vec<BadCredential> = vec![
        ("no credentials", None, None),
        ("not a JWT", Some("Bearer not-a-token".into()), None),
        ("alg none", Some(format!("Bearer {unsigned}")), None),
        (
            "another key",
            Some(format!(
                "Bearer {}",
                sign(&claims(), b"another-secret-of-at-least-32-bytes!!")
            )),
            None,
        ),
        (
            "expired",
            Some(format!("Bearer {}", sign(&expired, TEST_SECRET))),
            None,
        ),
        ("basic scheme", Some("Basic YWRtaW46YWRtaW4=".into()), None),
        (
            "unknown API key",
            None,
            Some(("x-api-key", "rk_unknownunknownunknownunknownunknown".into())),
        ),
    ];
    for (case, authorization, header) in cases {
        let mut request = app.get("/api/v1/me");
        if let Some(value) = &authorization {
            request = request.header("authorization", value);
        }
        if let Some((name, value)) = &header {
            request = request.header(name, value);
        }
        let response = request.send().await;
        assert_error(&response, 401, "UNAUTHENTICATED");
        assert!(response.header("www-authenticate").is_some(), "{case}");
    }
    let valid = app.token(&["member"]);
    let in_query = app
        .get(&format!("/api/v1/me?access_token={valid}"))
        .send()
        .await;
    assert_error(&in_query, 401, "UNAUTHENTICATED");
}

/// API2: a wrong password and an unknown account get the same answer, and guessing is limited.
#[tokio::test]
async fn api2_login_failures_are_identical_and_limited() {
    for backend in BACKENDS {
        api2_login_failures_are_identical_and_limited_on(backend).await;
    }
}

async fn api2_login_failures_are_identical_and_limited_on(backend: TestBackend) {
    let app = taskboard(backend).await;
    let alice = user(&app, "alice").await;
    let _ = alice;
    let attempt = |email: String| {
        let app = &app;
        async move {
            app.post("/api/v1/auth/login")
                .json(&json!({"email": email, "password": "wrong password!!"}))
                .send()
                .await
        }
    };
    let unknown = attempt("nobody@example.com".into()).await;
    let email = format!("limit.{}@example.com", uuid::Uuid::new_v4().simple());
    let registered = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": email, "password": PASSWORD, "display_name": "L"}))
        .send()
        .await;
    assert_eq!(registered.status(), 201);
    let wrong = attempt(email.clone()).await;
    assert_error(&unknown, 401, "INVALID_CREDENTIALS");
    assert_error(&wrong, 401, "INVALID_CREDENTIALS");
    let strip = |r: &TestResponse| {
        let mut body = r.json();
        body["error"]["request_id"] = Value::Null;
        body
    };
    assert_eq!(
        strip(&unknown),
        strip(&wrong),
        "byte-identical apart from the request id"
    );
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(attempt(email.clone()).await.status());
    }
    assert!(
        statuses.contains(&429),
        "login attempts are limited: {statuses:?}"
    );
}

/// API3: server-set properties cannot be written (400 naming the field), and responses never
/// carry secrets: no password hash, no key hash, no internal column, anywhere.
#[tokio::test]
async fn api3_property_level_authorization() {
    for backend in BACKENDS {
        let app = taskboard(backend).await;
        let alice = user(&app, "alice").await;
        let project =
            created_id(&app, "/api/v1/projects", &alice.token, json!({"name": "p"})).await;
        for (method, path, body, field) in [
            (
                Method::POST,
                "/api/v1/projects".to_owned(),
                json!({"name": "q", "owner_id": alice.id}),
                "owner_id",
            ),
            (
                Method::PATCH,
                format!("/api/v1/projects/{project}"),
                json!({"version": 1, "archived": true}),
                "archived",
            ),
            (
                Method::POST,
                format!("/api/v1/projects/{project}/tasks"),
                json!({"title": "t", "project_id": project}),
                "project_id",
            ),
        ] {
            let response = call(&app, method, &path, &alice.token, Some(body)).await;
            assert_error(&response, 400, "VALIDATION_ERROR");
            assert!(
                response.text().contains(field),
                "{path}: {}",
                response.text()
            );
        }
        let registration = app
            .post("/api/v1/auth/register")
            .json(&json!({"email": "mallory@example.com", "password": PASSWORD, "display_name": "M", "roles": ["admin"]}))
            .send()
            .await;
        assert_error(&registration, 400, "BAD_REQUEST");

        let created_key = call(
            &app,
            Method::POST,
            "/api/v1/auth/api-keys",
            &alice.token,
            Some(json!({"name": "k"})),
        )
        .await;
        let mut bodies = vec![
            call(&app, Method::GET, "/api/v1/me", &alice.token, None)
                .await
                .text(),
            call(
                &app,
                Method::GET,
                "/api/v1/auth/api-keys",
                &alice.token,
                None,
            )
            .await
            .text(),
            call(
                &app,
                Method::GET,
                &format!("/api/v1/projects/{project}"),
                &alice.token,
                None,
            )
            .await
            .text(),
            created_key.text(),
        ];
        let admin = app.token(&["admin"]);
        bodies.push(
            call(&app, Method::GET, "/api/v1/admin/users", &admin, None)
                .await
                .text(),
        );
        for body in &bodies {
            let lower = body.to_lowercase();
            for secret in ["password", "hash", "$argon2", "refresh_token"] {
                assert!(!lower.contains(secret), "`{secret}` in {body}");
            }
        }
        // The key's secret is shown once, at creation, and never listed again.
        let secret = created_key.json()["data"]["key"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(secret.starts_with("rk_"), "{}", created_key.text());
        assert!(!bodies[1].contains(&secret));
    }
}

/// API4: bodies past the limit are 413 before they are parsed; page sizes, arrays, nesting and
/// strings are bounded; a flood is 429.
#[tokio::test]
async fn api4_unrestricted_resource_consumption_is_bounded() {
    for backend in BACKENDS {
        api4_unrestricted_resource_consumption_is_bounded_on(backend).await;
    }
}

async fn api4_unrestricted_resource_consumption_is_bounded_on(backend: TestBackend) {
    let app = taskboard(backend).await;
    let alice = user(&app, "alice").await;
    let project = created_id(&app, "/api/v1/projects", &alice.token, json!({"name": "p"})).await;
    let post = |path: String, body: Vec<u8>| {
        let (app, token) = (&app, alice.token.clone());
        async move {
            app.post(&path)
                .bearer(&token)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
        }
    };
    // 100,000-item array, and a 1 MiB string: over the 16 KiB limit of the route.
    let array = format!(
        "{{\"name\": \"a\", \"description\": null, \"x\": [{}]}}",
        vec!["1"; 100_000].join(",")
    );
    assert_error(
        &post("/api/v1/projects".into(), array.into_bytes()).await,
        413,
        "PAYLOAD_TOO_LARGE",
    );
    let huge = json!({"title": "x".repeat(1 << 20)}).to_string();
    assert_error(
        &post(
            format!("/api/v1/projects/{project}/tasks"),
            huge.into_bytes(),
        )
        .await,
        413,
        "PAYLOAD_TOO_LARGE",
    );
    // Deep nesting within the size limit: refused by the parser's depth limit, not a crash.
    let deep = format!("{{\"name\": {}1{}}}", "[".repeat(5000), "]".repeat(5000));
    assert_error(
        &post("/api/v1/projects".into(), deep.into_bytes()).await,
        400,
        "BAD_REQUEST",
    );
    // A long string within the byte limit: refused by the declared maxLength.
    let long = json!({"name": "y".repeat(5000)}).to_string();
    assert_error(
        &post("/api/v1/projects".into(), long.into_bytes()).await,
        400,
        "VALIDATION_ERROR",
    );
    // Page sizes are capped.
    for query in ["per_page=101", "per_page=1000000", "per_page=0"] {
        let response = call(
            &app,
            Method::GET,
            &format!("/api/v1/projects?{query}"),
            &alice.token,
            None,
        )
        .await;
        assert_error(&response, 400, "VALIDATION_ERROR");
    }
    // A flood of writes meets the endpoint's limit.
    let mut statuses = Vec::new();
    for i in 0..400 {
        let response = call(
            &app,
            Method::POST,
            &format!("/api/v1/projects/{project}/tasks"),
            &alice.token,
            Some(json!({"title": format!("t{i}")})),
        )
        .await;
        statuses.push(response.status());
        if response.status() == 429 {
            assert!(response.header("retry-after").is_some());
            break;
        }
    }
    assert_eq!(
        statuses.last(),
        Some(&429),
        "{} writes, none limited",
        statuses.len()
    );
}

/// API6: the flows an attacker automates (registration, login, refresh, password change, key
/// creation, writes) each carry a rate limit, and the limit answers 429 with `Retry-After`.
#[tokio::test]
async fn api6_sensitive_business_flows_are_rate_limited() {
    for backend in BACKENDS {
        api6_sensitive_business_flows_are_rate_limited_on(backend).await;
    }
}

async fn api6_sensitive_business_flows_are_rate_limited_on(backend: TestBackend) {
    let api = crate::taskboard::api();
    let sensitive = [
        ("POST", "/api/v1/auth/register"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/refresh"),
        ("POST", "/api/v1/auth/logout"),
        ("POST", "/api/v1/auth/password"),
        ("POST", "/api/v1/auth/api-keys"),
        ("POST", "/api/v1/projects"),
        ("POST", "/api/v1/projects/{id}/tasks"),
        ("POST", "/api/v1/projects/{id}/archive"),
        ("POST", "/api/v1/projects/{id}/exports"),
    ];
    for (method, path) in sensitive {
        let def = api
            .endpoints()
            .into_iter()
            .find(|(p, d)| p == path && d.method.as_str() == method)
            .map(|(_, d)| d.rate_limit.is_some());
        assert_eq!(def, Some(true), "{method} {path} must declare a rate limit");
    }
    let app = taskboard(backend).await;
    let mut last = None;
    for i in 0..30 {
        let response = app
            .post("/api/v1/auth/register")
            .json(&json!({"email": format!("flood{i}@example.com"), "password": PASSWORD, "display_name": "F"}))
            .send()
            .await;
        if response.status() == 429 {
            assert!(response.header("retry-after").is_some());
            last = Some(i);
            break;
        }
    }
    assert!(last.is_some(), "registration flood was never limited");
}

/// API8: security headers on every kind of response, no version banners, no caching of token
/// responses, CORS closed to unknown origins, no internals in errors, docs off when configured.
#[tokio::test]
async fn api8_security_misconfiguration() {
    for backend in BACKENDS {
        api8_security_misconfiguration_on(backend).await;
    }
}

async fn api8_security_misconfiguration_on(backend: TestBackend) {
    let app = taskboard(backend).await;
    let alice = user(&app, "alice").await;
    let responses = [
        app.get("/api/v1/info").send().await,
        app.get("/api/v1/me").send().await,
        app.get("/api/v1/no-such-route").send().await,
        app.request(Method::DELETE, "/api/v1/info").send().await,
        app.get("/api/v1/me").bearer(&alice.token).send().await,
    ];
    for response in &responses {
        assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
        assert!(response.header("server").is_none(), "no server banner");
        assert!(response.header("x-powered-by").is_none());
        assert!(
            !response.text().to_lowercase().contains("axum"),
            "{}",
            response.text()
        );
    }
    // Token and key responses are never cached (they carry secrets).
    let email = format!("cache.{}@example.com", uuid::Uuid::new_v4().simple());
    let registered = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": email, "password": PASSWORD, "display_name": "C"}))
        .send()
        .await;
    assert_eq!(registered.status(), 201);
    let login = app
        .post("/api/v1/auth/login")
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await;
    assert_eq!(login.status(), 200);
    assert_eq!(login.header("cache-control"), Some("no-store"));
    let created = call(
        &app,
        Method::POST,
        "/api/v1/auth/api-keys",
        &alice.token,
        Some(json!({"name": "k"})),
    )
    .await;
    assert_eq!(created.header("cache-control"), Some("no-store"));

    let preflight = app
        .request(Method::OPTIONS, "/api/v1/me")
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "GET")
        .send()
        .await;
    assert!(
        preflight.header("access-control-allow-origin").is_none(),
        "unknown origins get no CORS grant"
    );

    let closed = crate::common::taskboard_builder()
        .backend(backend)
        .migrations(crate::taskboard::MIGRATIONS)
        .with_identity()
        .configure(|config| config.docs = false)
        .build()
        .await;
    let closed = closed.unwrap_or_else(|e| panic!("{e}"));
    for path in ["/docs/", "/openapi.json"] {
        assert_error(&closed.get(path).send().await, 404, "NOT_FOUND");
    }
    // Production turns docs off unless asked for.
    let production = rampart::Config::from_lookup(&|name| match name {
        "RAMPART_ENV" => Some("production".to_owned()),
        "JWT_SECRET" => Some("x".repeat(32)),
        "RAMPART_CURSOR_SECRET" => Some("c".repeat(32)),
        _ => None,
    });
    assert_eq!(production.map(|config| config.docs).ok(), Some(false));
}

/// API9: the inventory is exact. The router's operations are the document's operations, and
/// on every documented path the router allows exactly the documented methods (405 + `Allow`
/// for the rest). Undocumented routes: only `/metrics` and the docs UI.
#[tokio::test]
async fn api9_inventory_router_equals_document() {
    for backend in BACKENDS {
        api9_inventory_router_equals_document_on(backend).await;
    }
}

async fn api9_inventory_router_equals_document_on(backend: TestBackend) {
    // The inventory, kept by hand from the HTTP contract (DESIGN.md, "The reference app"): an
    // operation that is mounted but not listed here, or listed but gone, fails this test, so
    // the surface cannot grow unnoticed. The router side is probed below, path by path.
    const INVENTORY: &[(&str, &str)] = &[
        ("DELETE", "/api/v1/admin/jobs/dead/{id}"),
        ("DELETE", "/api/v1/auth/api-keys/{id}"),
        ("DELETE", "/api/v1/notes/{id}"),
        ("DELETE", "/api/v1/projects/{id}"),
        ("DELETE", "/api/v1/tasks/{id}"),
        ("GET", "/api/v1/admin/jobs/dead"),
        ("GET", "/api/v1/admin/notes"),
        ("GET", "/api/v1/admin/users"),
        ("GET", "/api/v1/auth/api-keys"),
        ("GET", "/api/v1/info"),
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/notes"),
        ("GET", "/api/v1/notes/{id}"),
        ("GET", "/api/v1/projects"),
        ("GET", "/api/v1/projects/{id}"),
        ("GET", "/api/v1/projects/{id}/exports/{export_id}"),
        ("GET", "/api/v1/projects/{id}/open-tasks"),
        ("GET", "/api/v1/projects/{id}/tasks"),
        ("GET", "/api/v1/projects/{id}/webhook-secret"),
        ("GET", "/api/v1/stats"),
        ("GET", "/api/v1/tasks/{id}"),
        ("GET", "/health/live"),
        ("GET", "/health/ready"),
        ("PATCH", "/api/v1/projects/{id}"),
        ("PATCH", "/api/v1/tasks/{id}"),
        ("POST", "/api/v1/admin/jobs/dead/{id}/retry"),
        ("POST", "/api/v1/admin/users/{id}/disable"),
        ("POST", "/api/v1/auth/api-keys"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/logout"),
        ("POST", "/api/v1/auth/password"),
        ("POST", "/api/v1/auth/refresh"),
        ("POST", "/api/v1/auth/register"),
        ("POST", "/api/v1/notes"),
        ("POST", "/api/v1/projects"),
        ("POST", "/api/v1/projects/{id}/archive"),
        ("POST", "/api/v1/projects/{id}/exports"),
        ("POST", "/api/v1/projects/{id}/tasks"),
        ("PUT", "/api/v1/admin/users/{id}/roles"),
        ("PUT", "/api/v1/projects/{id}"),
        ("PUT", "/api/v1/projects/{id}/webhook"),
    ];
    let api = crate::taskboard::api();
    let document = api.openapi_json();
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, operations) in document["paths"].as_object().cloned().unwrap_or_default() {
        for method in operations.as_object().cloned().unwrap_or_default().keys() {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    documented.sort();
    let inventory: Vec<(String, String)> = INVENTORY
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    assert_eq!(
        documented, inventory,
        "the document differs from the inventory"
    );

    let app = taskboard(backend).await;
    let token = app.token(&["member"]);
    for (path, operations) in document["paths"].as_object().cloned().unwrap_or_default() {
        let concrete = path
            .replace("{id}", &uuid::Uuid::now_v7().to_string())
            .replace("{export_id}", &uuid::Uuid::now_v7().to_string());
        let mut allowed: Vec<String> = operations
            .as_object()
            .cloned()
            .unwrap_or_default()
            .keys()
            .map(|m| m.to_uppercase())
            .collect();
        allowed.sort();
        let probe = app
            .request(Method::TRACE, &concrete)
            .bearer(&token)
            .send()
            .await;
        assert_error(&probe, 405, "METHOD_NOT_ALLOWED");
        let mut allow: Vec<String> = probe
            .header("allow")
            .unwrap_or_default()
            .split(',')
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty() && m != "HEAD")
            .collect();
        allow.sort();
        assert_eq!(allow, allowed, "{path}");
    }
    assert_error(&app.get("/api/v0/projects").send().await, 404, "NOT_FOUND");
    assert_error(
        &app.get("/api/v1/internal/debug").send().await,
        404,
        "NOT_FOUND",
    );
}
