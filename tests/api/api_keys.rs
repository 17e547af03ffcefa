//! API keys through the taskboard's router on SQLite and PostgreSQL: shown once, stored as a
//! hash, accepted only in `X-API-Key`, narrowed by `auth = ..`, revocable, role subsets.

use rampart::prelude::*;
use rampart::testing::{BACKENDS, TestApp, TestBackend, TestResponse};
use serde::Serialize;
use serde_json::json;

use crate::common::assert_error;

#[derive(Serialize, Schema)]
struct Whoami {
    scheme: String,
    roles: Vec<String>,
}

/// Only for API keys.
#[endpoint(get = "/service/whoami", auth = "api_key")]
async fn service_whoami(ctx: Ctx) -> ApiResult<Whoami> {
    let user = ctx.user()?;
    Ok(Whoami {
        scheme: format!("{:?}", user.scheme()),
        roles: user.roles().to_vec(),
    })
}

/// Two requests a minute per caller.
#[endpoint(get = "/service/limited", rate_limit = "2/min")]
async fn service_limited(ctx: Ctx) -> ApiResult<Whoami> {
    service_whoami_of(ctx.user()?)
}

fn service_whoami_of(user: &Principal) -> ApiResult<Whoami> {
    Ok(Whoami {
        scheme: format!("{:?}", user.scheme()),
        roles: user.roles().to_vec(),
    })
}

async fn app_with_user(backend: rampart::testing::TestBackend) -> (TestApp, String) {
    let api = crate::taskboard::api()
        .mount(service_whoami)
        .mount(service_limited);
    let app = crate::common::taskboard_builder_for(api)
        .backend(backend)
        .migrations(crate::taskboard::MIGRATIONS)
        .with_identity()
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let access = crate::common::account(&app, "svc").await.access;
    (app, access)
}

async fn create_key(app: &TestApp, access: &str, body: serde_json::Value) -> TestResponse {
    app.post("/api/v1/auth/api-keys")
        .bearer(access)
        .json(&body)
        .send()
        .await
}

/// DESIGN: limits are keyed "by user id or API key id". Two keys of one user, and the user's
/// own JWT, each have their own budget of an endpoint's limit.
#[tokio::test]
async fn each_api_key_has_its_own_rate_limit_apart_from_its_owner() {
    for backend in BACKENDS {
        let (app, access) = app_with_user(backend).await;
        let mut keys = Vec::new();
        for name in ["first", "second"] {
            let created = create_key(&app, &access, json!({ "name": name })).await;
            assert_eq!(created.status(), 201, "{backend:?}: {}", created.text());
            keys.push(
                created.json()["data"]["key"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
        let with_key = |key: &str| {
            app.get("/api/v1/service/limited")
                .header("x-api-key", key)
                .send()
        };
        // The first key spends its budget...
        for _ in 0..2 {
            assert_eq!(with_key(&keys[0]).await.status(), 200, "{backend:?}");
        }
        assert_error(&with_key(&keys[0]).await, 429, "RATE_LIMITED");
        // ...which leaves the second key's and the owner's untouched.
        for _ in 0..2 {
            let response = with_key(&keys[1]).await;
            assert_eq!(response.status(), 200, "{backend:?}: {}", response.text());
        }
        assert_error(&with_key(&keys[1]).await, 429, "RATE_LIMITED");
        for _ in 0..2 {
            let response = app
                .get("/api/v1/service/limited")
                .bearer(&access)
                .send()
                .await;
            assert_eq!(response.status(), 200, "{backend:?}: {}", response.text());
        }
        let jwt_over = app
            .get("/api/v1/service/limited")
            .bearer(&access)
            .send()
            .await;
        assert_error(&jwt_over, 429, "RATE_LIMITED");
    }
}

#[tokio::test]
async fn keys_are_shown_once_stored_hashed_and_act_as_their_owner() {
    for backend in BACKENDS {
        let (app, access) = app_with_user(backend).await;
        let created = create_key(&app, &access, json!({"name": "ci deploy"})).await;
        assert_eq!(created.status(), 201, "{backend:?}: {}", created.text());
        assert_eq!(created.header("cache-control"), Some("no-store"));
        let key = created.json()["data"]["key"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            key.starts_with("rk_") && key.len() >= 46,
            "prefix + 256 random bits: {key}"
        );
        let id = created.json()["data"]["info"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();

        let listed = app
            .get("/api/v1/auth/api-keys")
            .bearer(&access)
            .send()
            .await;
        assert_eq!(listed.status(), 200);
        assert!(
            !listed.text().contains(&key[3..]),
            "the listing never holds the secret"
        );
        assert_eq!(listed.json()["data"]["keys"][0]["name"], "ci deploy");

        // Only a hash is stored.
        let stored: Vec<u8> = match app.app().db().map(|db| db.primary().clone()) {
            Some(rampart::db::Pool::Sqlite(pool)) => {
                sqlx::query_scalar("SELECT key_hash FROM rampart_api_keys")
                    .fetch_one(&pool)
                    .await
                    .unwrap_or_default()
            }
            Some(rampart::db::Pool::Postgres(pool)) => {
                sqlx::query_scalar("SELECT key_hash FROM rampart_api_keys")
                    .fetch_one(&pool)
                    .await
                    .unwrap_or_default()
            }
            None => Vec::new(),
        };
        assert_eq!(stored.len(), 32, "a SHA-256, not the key");
        assert!(!String::from_utf8_lossy(&stored).contains(&key[3..]));

        // The key authenticates as its owner, on endpoints that accept keys.
        let me = app.get("/api/v1/me").header("x-api-key", &key).send().await;
        assert_eq!(me.status(), 200, "{}", me.text());
        assert_eq!(me.json()["data"]["scheme"], "api_key");
        assert_eq!(me.json()["data"]["roles"], json!(["member"]));
        assert_eq!(
            app.get("/api/v1/notes")
                .header("x-api-key", &key)
                .send()
                .await
                .status(),
            200
        );
        assert_eq!(
            app.get("/api/v1/service/whoami")
                .header("x-api-key", &key)
                .send()
                .await
                .status(),
            200
        );

        // Never from the query string; `auth = ..` narrows the schemes both ways.
        assert_error(
            &app.get(&format!("/api/v1/me?api_key={key}")).send().await,
            401,
            "UNAUTHENTICATED",
        );
        assert_error(
            &app.get("/api/v1/service/whoami")
                .bearer(&access)
                .send()
                .await,
            401,
            "UNAUTHENTICATED",
        );
        let key_minting_keys = app
            .post("/api/v1/auth/api-keys")
            .header("x-api-key", &key)
            .json(&json!({"name": "x"}))
            .send()
            .await;
        assert_error(&key_minting_keys, 401, "UNAUTHENTICATED");
        // Both kinds of credentials at once is ambiguous.
        assert_error(
            &app.get("/api/v1/me")
                .bearer(&access)
                .header("x-api-key", &key)
                .send()
                .await,
            401,
            "UNAUTHENTICATED",
        );
        // Garbage and near-misses.
        assert_error(
            &app.get("/api/v1/me")
                .header("x-api-key", "rk_nonsense")
                .send()
                .await,
            401,
            "UNAUTHENTICATED",
        );
        let tampered = format!("{}x", &key[..key.len() - 1]);
        assert_error(
            &app.get("/api/v1/me")
                .header("x-api-key", &tampered)
                .send()
                .await,
            401,
            "UNAUTHENTICATED",
        );

        // Revoked: 401 at once. Someone else's key id: 404.
        let other_user = app.token(&["member"]);
        let foreign = app
            .request(
                rampart::__private::axum::http::Method::DELETE,
                &format!("/api/v1/auth/api-keys/{id}"),
            )
            .bearer(&other_user)
            .send()
            .await;
        assert_error(&foreign, 404, "NOT_FOUND");
        let revoked = app
            .request(
                rampart::__private::axum::http::Method::DELETE,
                &format!("/api/v1/auth/api-keys/{id}"),
            )
            .bearer(&access)
            .send()
            .await;
        assert_eq!(revoked.status(), 204);
        assert_error(
            &app.get("/api/v1/me").header("x-api-key", &key).send().await,
            401,
            "UNAUTHENTICATED",
        );
    }
}

#[tokio::test]
async fn a_key_holds_a_subset_of_its_owners_roles() {
    for backend in BACKENDS {
        a_key_holds_a_subset_of_its_owners_roles_on(backend).await;
    }
}

async fn a_key_holds_a_subset_of_its_owners_roles_on(backend: TestBackend) {
    let (app, access) = app_with_user(backend).await;
    let narrowed = create_key(&app, &access, json!({"name": "read-only", "roles": []})).await;
    assert_eq!(narrowed.status(), 201, "{}", narrowed.text());
    let key = narrowed.json()["data"]["key"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let whoami = app
        .get("/api/v1/service/whoami")
        .header("x-api-key", &key)
        .send()
        .await;
    assert_eq!(whoami.json()["data"]["roles"], json!([]));
    assert_error(
        &app.get("/api/v1/notes")
            .header("x-api-key", &key)
            .send()
            .await,
        403,
        "FORBIDDEN",
    );

    let escalation = create_key(&app, &access, json!({"name": "root", "roles": ["admin"]})).await;
    assert_error(&escalation, 403, "FORBIDDEN");
    assert_eq!(escalation.json()["error"]["details"][0]["field"], "roles");
}
