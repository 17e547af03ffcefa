//! HTTP caching through the taskboard's router: the default `Cache-Control` of each kind of
//! response, an `ETag` on every 200 to a read, and `If-None-Match` answered with 304.

use rampart::testing::{TestApp, TestBackend, TestResponse};
use serde_json::json;
use uuid::Uuid;

use crate::common::{create_api_key, taskboard};

const PASSWORD: &str = "correct horse battery staple";

fn etag(response: &TestResponse) -> String {
    response
        .header("etag")
        .unwrap_or_else(|| panic!("an ETag: {:?}", response.headers()))
        .to_owned()
}

async fn project(app: &TestApp, token: &str) -> (String, TestResponse) {
    let created = app
        .post("/api/v1/projects")
        .bearer(token)
        .json(&json!({"name": "Cached"}))
        .send()
        .await;
    assert_eq!(created.status(), 201, "{}", created.text());
    let id = created.json()["data"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (id, created)
}

/// A read with credentials: `private, no-cache` (no shared cache may store it, a browser must
/// revalidate), `Vary` on the credential headers, and a validator; the same validator back is
/// a 304 with no body, a changed resource a 200 with a new one.
#[tokio::test]
async fn an_authenticated_read_is_private_and_revalidates_to_304() {
    let app = taskboard(TestBackend::Sqlite).await;
    let token = app.token_for(Uuid::new_v4(), &["member"]);
    let (id, created) = project(&app, &token).await;
    assert_eq!(created.header("cache-control"), Some("private, no-cache"));

    for path in [
        format!("/api/v1/projects/{id}"),
        "/api/v1/projects".to_owned(),
        "/api/v1/me".to_owned(),
    ] {
        let first = app.get(&path).bearer(&token).send().await;
        assert_eq!(first.status(), 200, "{path}: {}", first.text());
        assert_eq!(
            first.header("cache-control"),
            Some("private, no-cache"),
            "{path}"
        );
        let vary = first.header("vary").unwrap_or_default();
        assert!(
            vary.contains("Authorization") && vary.contains("X-API-Key"),
            "{path}: {vary}"
        );
        let tag = etag(&first);
        assert!(
            tag.starts_with('"') && tag.ends_with('"') && tag.len() > 2,
            "{path}: {tag}"
        );

        // The same data twice: the same validator (nothing per request is in the body).
        let again = app.get(&path).bearer(&token).send().await;
        assert_eq!(etag(&again), tag, "{path}");

        for condition in [
            tag.clone(),
            format!("W/{tag}"),
            format!("\"other\", {tag}"),
            "*".to_owned(),
        ] {
            let revalidated = app
                .get(&path)
                .bearer(&token)
                .header("if-none-match", &condition)
                .send()
                .await;
            assert_eq!(revalidated.status(), 304, "{path} with {condition}");
            assert!(revalidated.text().is_empty(), "{path}: a 304 has no body");
            assert_eq!(revalidated.header("etag"), Some(tag.as_str()), "{path}");
            assert_eq!(
                revalidated.header("cache-control"),
                Some("private, no-cache"),
                "{path}"
            );
            assert!(revalidated.header("content-type").is_none(), "{path}");
            assert!(revalidated.header("x-request-id").is_some(), "{path}");
        }
        let stale = app
            .get(&path)
            .bearer(&token)
            .header("if-none-match", "\"not-the-tag\"")
            .send()
            .await;
        assert_eq!(stale.status(), 200, "{path}: another tag is a full answer");
        assert!(!stale.json()["data"].is_null(), "{path}");
    }

    // A change is a new validator: the old one gets the new body.
    let read = app
        .get(&format!("/api/v1/projects/{id}"))
        .bearer(&token)
        .send()
        .await;
    let before = etag(&read);
    let renamed = app
        .request(axum::http::Method::PATCH, &format!("/api/v1/projects/{id}"))
        .bearer(&token)
        .header("if-match", &before)
        .json(&json!({"name": "Renamed"}))
        .send()
        .await;
    assert_eq!(renamed.status(), 200, "{}", renamed.text());
    let after = app
        .get(&format!("/api/v1/projects/{id}"))
        .bearer(&token)
        .header("if-none-match", &before)
        .send()
        .await;
    assert_eq!(after.status(), 200, "{}", after.text());
    assert_eq!(after.json()["data"]["name"], "Renamed");
    assert_ne!(etag(&after), before);

    // The list changes with it.
    let list = app.get("/api/v1/projects").bearer(&token).send().await;
    let list_tag = etag(&list);
    project(&app, &token).await;
    let grown = app
        .get("/api/v1/projects")
        .bearer(&token)
        .header("if-none-match", &list_tag)
        .send()
        .await;
    assert_eq!(grown.status(), 200, "a new project is a new list");

    // HEAD revalidates like GET.
    let head = app
        .request(axum::http::Method::HEAD, "/api/v1/projects")
        .bearer(&token)
        .header("if-none-match", &etag(&grown))
        .send()
        .await;
    assert_eq!(head.status(), 304);
}

/// Credentials in the body stay `no-store`, without a validator: tokens and new API keys.
#[tokio::test]
async fn credential_bearing_responses_stay_no_store() {
    let app = taskboard(TestBackend::Sqlite).await;
    let email = format!("c.{}@example.com", Uuid::new_v4().simple());
    let registered = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": email, "password": PASSWORD, "display_name": "C"}))
        .send()
        .await;
    assert_eq!(registered.status(), 201, "{}", registered.text());
    let login = app
        .post("/api/v1/auth/login")
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await;
    assert_eq!(login.status(), 200);
    assert_eq!(login.header("cache-control"), Some("no-store"));
    assert!(login.header("etag").is_none());
    let access = login.json()["data"]["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let created = app
        .post("/api/v1/auth/api-keys")
        .bearer(&access)
        .json(&json!({"name": "ci"}))
        .send()
        .await;
    assert_eq!(created.status(), 201, "{}", created.text());
    assert_eq!(created.header("cache-control"), Some("no-store"));
    assert!(created.header("etag").is_none());

    // An API key is a credential too: its reads are private.
    let key = create_api_key(&app, &access, "reader").await;
    let me = app.get("/api/v1/me").header("x-api-key", &key).send().await;
    assert_eq!(me.status(), 200, "{}", me.text());
    assert_eq!(me.header("cache-control"), Some("private, no-cache"));
}

/// A public read without credentials: `no-cache` with a validator (`public, max-age` where
/// the endpoint declares a cache, as `/info` does), and 304 on it. An error carries no
/// validator and is never a 304.
#[tokio::test]
async fn a_public_read_revalidates_and_errors_are_never_304() {
    let app = taskboard(TestBackend::Sqlite).await;
    let live = app.get("/health/live").send().await;
    assert_eq!(live.status(), 200, "{}", live.text());
    assert_eq!(live.header("cache-control"), Some("no-cache"));
    let info = app.get("/api/v1/info").send().await;
    assert_eq!(info.status(), 200, "{}", info.text());
    assert!(
        info.header("cache-control")
            .is_some_and(|c| c.starts_with("public, max-age=")),
        "{:?}",
        info.headers()
    );
    // Who asks decides the answer, on a public endpoint too: a stored copy varies with it
    // (and with `Accept`, part of the response cache's key).
    assert_eq!(
        info.header("vary"),
        Some("Accept, Authorization, X-API-Key")
    );
    assert_eq!(live.header("vary"), Some("Authorization, X-API-Key"));
    let tag = etag(&info);
    let revalidated = app
        .get("/api/v1/info")
        .header("if-none-match", &tag)
        .send()
        .await;
    assert_eq!(revalidated.status(), 304);

    let token = app.token_for(Uuid::new_v4(), &["member"]);
    let missing = app
        .get(&format!("/api/v1/projects/{}", Uuid::new_v4()))
        .bearer(&token)
        .header("if-none-match", "*")
        .send()
        .await;
    assert_eq!(missing.status(), 404, "{}", missing.text());
    assert!(missing.header("etag").is_none());
    assert_eq!(missing.header("cache-control"), Some("private, no-cache"));

    // An anonymous error says `no-cache` too: a shared cache must not keep a 404 for later.
    let unknown = app.get("/api/v1/no-such-route").send().await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(unknown.header("cache-control"), Some("no-cache"));

    // A write with `If-None-Match` cannot be evaluated: refused, and nothing is written.
    let refused = app
        .post("/api/v1/projects")
        .bearer(&token)
        .header("if-none-match", "*")
        .json(&json!({"name": "Written"}))
        .send()
        .await;
    crate::common::assert_error(&refused, 412, "PRECONDITION_FAILED");
    // A method the route does not have stays a 405, whatever it carries.
    let undeclared = app
        .request(axum::http::Method::DELETE, "/api/v1/info")
        .header("if-none-match", "*")
        .send()
        .await;
    assert_eq!(undeclared.status(), 405, "{}", undeclared.text());
    let list = app.get("/api/v1/projects").bearer(&token).send().await;
    assert_eq!(list.json()["data"], json!([]), "{}", list.text());
}

/// A tag split over two `If-None-Match` field lines still matches; a tag from another
/// instance configured with the same secret is the same tag.
#[tokio::test]
async fn tags_are_stable_across_instances_and_lists_across_lines() {
    let one = taskboard(TestBackend::Sqlite).await;
    let two = taskboard(TestBackend::Sqlite).await;
    let first = one.get("/api/v1/info").send().await;
    let second = two.get("/api/v1/info").send().await;
    assert_eq!(etag(&first), etag(&second));
    let request = axum::http::Request::builder()
        .uri("/api/v1/info")
        .header("host", "localhost")
        .header("if-none-match", "\"other\"")
        .header("if-none-match", etag(&first))
        .body(axum::body::Body::empty())
        .unwrap_or_else(|e| panic!("{e}"));
    let revalidated = one.send(request).await;
    assert_eq!(revalidated.status(), 304);
}
