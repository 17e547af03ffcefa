//! `#[resource(endpoints(...))]` takes `#[endpoint]`'s access and limit options, and the six
//! generated endpoints enforce them, through the real router on SQLite and PostgreSQL:
//! `public` reads without credentials (writes still need them), `timeout` cutting off a write
//! that waits on a lock, `auth = "api_key"` refusing a JWT.

use rampart::__private::axum::http::Method;
use rampart::prelude::*;
use rampart::testing::{BACKENDS, TestApp, TestBackend};
use serde_json::json;
use uuid::Uuid;

use crate::common::assert_error;

/// A notice board everyone may read; posting needs an account. Writes give up after 250 ms.
#[resource(
    table = "re_bulletins",
    endpoints(path = "/bulletins", public, timeout = "250ms")
)]
#[derive(Debug, Clone)]
pub(crate) struct Bulletin {
    #[resource(id)]
    pub(crate) id: Uuid,
    #[validate(length(min = 1, max = 100))]
    pub(crate) text: String,
}

/// Readings that machines post with API keys, and nothing else.
#[resource(
    table = "re_readings",
    owner = owner_id,
    endpoints(path = "/readings", auth = "api_key", role = "member")
)]
#[derive(Debug, Clone)]
pub(crate) struct Reading {
    #[resource(id)]
    pub(crate) id: Uuid,
    pub(crate) owner_id: Uuid,
    pub(crate) value: i64,
}

const MIGRATIONS: rampart::Migrations = rampart::Migrations {
    sqlite: &[(
        1,
        "resource endpoints",
        "CREATE TABLE re_bulletins (id BLOB PRIMARY KEY NOT NULL, text TEXT NOT NULL); \
         CREATE TABLE re_readings (id BLOB PRIMARY KEY NOT NULL, owner_id BLOB NOT NULL, value INTEGER NOT NULL);",
    )],
    postgres: &[(
        1,
        "resource endpoints",
        "CREATE TABLE re_bulletins (id UUID PRIMARY KEY, text TEXT NOT NULL); \
         CREATE TABLE re_readings (id UUID PRIMARY KEY, owner_id UUID NOT NULL, value BIGINT NOT NULL);",
    )],
};

async fn app(backend: TestBackend) -> TestApp {
    let api = Api::new().resource::<Bulletin>().resource::<Reading>();
    let api = rampart::identity::mount(api, rampart::rbac!());
    let built = TestApp::builder(api)
        .backend(backend)
        .migrations(MIGRATIONS)
        .with_identity()
        // Only the endpoints' own timeout can answer a write stuck on a lock quickly: the app's
        // request timeout and the database's statement timeout are an hour.
        .configure(|config| {
            config.request_timeout = std::time::Duration::from_secs(3600);
            config.database.statement_timeout = std::time::Duration::from_secs(3600);
        })
        .build()
        .await;
    match built {
        Ok(app) => app,
        Err(error) => panic!("{backend:?}: {error}"),
    }
}

#[tokio::test]
async fn public_reads_need_no_credentials_and_writes_still_do() {
    for backend in BACKENDS {
        let app = app(backend).await;
        let anonymous_post = app
            .post("/api/v1/bulletins")
            .json(&json!({"text": "hello"}))
            .send()
            .await;
        assert_error(&anonymous_post, 401, "UNAUTHENTICATED");

        let token = app.token(&["member"]);
        let posted = app
            .post("/api/v1/bulletins")
            .bearer(&token)
            .json(&json!({"text": "hello"}))
            .send()
            .await;
        assert_eq!(posted.status(), 201, "{backend:?}: {}", posted.text());
        let id = posted.json()["data"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();

        let listed = app.get("/api/v1/bulletins").send().await;
        assert_eq!(listed.status(), 200, "{backend:?}: {}", listed.text());
        assert_eq!(listed.json()["data"][0]["text"], "hello");
        let one = app.get(&format!("/api/v1/bulletins/{id}")).send().await;
        assert_eq!(one.status(), 200, "{backend:?}: {}", one.text());
        assert_eq!(one.json()["data"]["id"], id.as_str());
        // A signed-in reader sees the same rows: the table has no owner.
        let signed_in = app.get("/api/v1/bulletins").bearer(&token).send().await;
        assert_eq!(signed_in.json()["data"], listed.json()["data"]);

        for (method, path) in [
            (Method::PATCH, format!("/api/v1/bulletins/{id}")),
            (Method::PUT, format!("/api/v1/bulletins/{id}")),
            (Method::DELETE, format!("/api/v1/bulletins/{id}")),
        ] {
            let response = app
                .request(method.clone(), &path)
                .json(&json!({"text": "defaced"}))
                .send()
                .await;
            assert_error(&response, 401, "UNAUTHENTICATED");
        }
    }
}

/// Holds the write lock of `re_bulletins` until the returned guard's `release`.
enum Lock {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Lock {
    async fn take(app: &TestApp) -> Self {
        let lock = match app.app().db().map(|db| db.primary().clone()) {
            Some(rampart::db::Pool::Sqlite(pool)) => match pool.acquire().await {
                Ok(mut conn) => sqlx::query("BEGIN IMMEDIATE")
                    .execute(&mut *conn)
                    .await
                    .map(|_| Lock::Sqlite(conn)),
                Err(error) => Err(error),
            },
            Some(rampart::db::Pool::Postgres(pool)) => match pool.begin().await {
                Ok(mut tx) => sqlx::query("LOCK TABLE re_bulletins IN ACCESS EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await
                    .map(|_| Lock::Postgres(tx)),
                Err(error) => Err(error),
            },
            None => panic!("the app has no database"),
        };
        lock.unwrap_or_else(|error| panic!("cannot lock re_bulletins: {error}"))
    }

    async fn release(self) {
        let released = match self {
            Lock::Sqlite(mut conn) => sqlx::query("ROLLBACK").execute(&mut *conn).await.map(drop),
            Lock::Postgres(tx) => tx.rollback().await,
        };
        if let Err(error) = released {
            panic!("cannot release the lock: {error}");
        }
    }
}

#[tokio::test]
async fn the_declared_timeout_cuts_off_a_write_waiting_on_a_lock() {
    for backend in BACKENDS {
        let app = app(backend).await;
        let token = app.token(&["member"]);
        let lock = Lock::take(&app).await;
        // The insert waits for the lock, which is held until the response is in: only the
        // endpoint's `timeout` can answer, with the timeout's 503.
        let stuck = app
            .post("/api/v1/bulletins")
            .bearer(&token)
            .json(&json!({"text": "stuck"}))
            .send()
            .await;
        lock.release().await;
        assert_error(&stuck, 503, "UNAVAILABLE");
        assert_eq!(stuck.header("retry-after"), Some("1"));
        // Once the lock is gone the same write goes through.
        let posted = app
            .post("/api/v1/bulletins")
            .bearer(&token)
            .json(&json!({"text": "through"}))
            .send()
            .await;
        assert_eq!(posted.status(), 201, "{backend:?}: {}", posted.text());
    }
}

/// A registered member's access token and one of their API keys.
async fn member_with_key(app: &TestApp) -> (String, String) {
    let access = crate::common::account(app, "meter").await.access;
    let created = app
        .post("/api/v1/auth/api-keys")
        .bearer(&access)
        .json(&json!({"name": "meter"}))
        .send()
        .await;
    assert_eq!(created.status(), 201, "{}", created.text());
    let key = created.json()["data"]["key"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (access, key)
}

#[tokio::test]
async fn auth_api_key_admits_keys_and_refuses_tokens_on_all_six() {
    for backend in BACKENDS {
        let app = app(backend).await;
        let (access, key) = member_with_key(&app).await;
        let created = app
            .post("/api/v1/readings")
            .header("x-api-key", &key)
            .json(&json!({"value": 42}))
            .send()
            .await;
        assert_eq!(created.status(), 201, "{backend:?}: {}", created.text());
        let id = created.json()["data"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let item = format!("/api/v1/readings/{id}");
        let listed = app
            .get("/api/v1/readings")
            .header("x-api-key", &key)
            .send()
            .await;
        assert_eq!(listed.status(), 200, "{backend:?}: {}", listed.text());
        assert_eq!(listed.json()["data"][0]["value"], 42);

        // The owner's own JWT is refused by every one of the six.
        for (method, path) in [
            (Method::GET, "/api/v1/readings".to_owned()),
            (Method::POST, "/api/v1/readings".to_owned()),
            (Method::GET, item.clone()),
            (Method::PUT, item.clone()),
            (Method::PATCH, item.clone()),
            (Method::DELETE, item.clone()),
        ] {
            let response = app
                .request(method.clone(), &path)
                .bearer(&access)
                .json(&json!({"value": 7}))
                .send()
                .await;
            assert_error(&response, 401, "UNAUTHENTICATED");
        }
        let deleted = app
            .request(Method::DELETE, &item)
            .header("x-api-key", &key)
            .send()
            .await;
        assert_eq!(deleted.status(), 204, "{backend:?}: {}", deleted.text());
    }
}

/// A resource without a version tags its reads with a hash of the body, which no write can
/// compare atomically: `If-Match` with a tag is a 412 (nothing written, nothing deleted), `*`
/// passes. The document says the tag is a body validator, not one for `If-Match`.
#[tokio::test]
async fn if_match_on_a_resource_without_a_version_is_refused() {
    for backend in BACKENDS {
        let app = app(backend).await;
        let token = app.token(&["member"]);
        let posted = app
            .post("/api/v1/bulletins")
            .bearer(&token)
            .json(&json!({"text": "hello"}))
            .send()
            .await;
        assert_eq!(posted.status(), 201, "{backend:?}: {}", posted.text());
        let path = format!(
            "/api/v1/bulletins/{}",
            posted.json()["data"]["id"].as_str().unwrap_or_default()
        );
        let read = app.get(&path).send().await;
        let tag = read
            .header("etag")
            .unwrap_or_else(|| panic!("a read has a validator"))
            .to_owned();
        for method in [Method::PATCH, Method::PUT, Method::DELETE] {
            let refused = app
                .request(method.clone(), &path)
                .bearer(&token)
                .header("if-match", &tag)
                .json(&json!({"text": "changed"}))
                .send()
                .await;
            assert_error(&refused, 412, "PRECONDITION_FAILED");
        }
        let unchanged = app.get(&path).send().await;
        assert_eq!(unchanged.json()["data"]["text"], "hello", "{backend:?}");
        let any = app
            .request(Method::PATCH, &path)
            .bearer(&token)
            .header("if-match", "*")
            .json(&json!({"text": "changed"}))
            .send()
            .await;
        assert_eq!(any.status(), 200, "{backend:?}: {}", any.text());
        assert_eq!(any.json()["data"]["text"], "changed");
    }
    let doc = Api::new().resource::<Bulletin>().openapi_json();
    let header =
        &doc["paths"]["/api/v1/bulletins/{id}"]["get"]["responses"]["200"]["headers"]["ETag"];
    let description = header["description"].as_str().unwrap_or_default();
    assert!(description.contains("If-None-Match"), "{description}");
    assert!(!description.contains("If-Match`"), "{description}");
}
