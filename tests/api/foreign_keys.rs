//! Constraints through the real router: a row naming a missing row is a 422, deleting a row
//! others still refer to is a 409, a CHECK constraint refusing a value is a 422, on SQLite and
//! PostgreSQL.

use axum::http::Method;
use rampart::prelude::*;
use rampart::testing::{BACKENDS, TestApp, TestBackend};
use serde_json::json;
use uuid::Uuid;

/// A colour labels refer to (owned, so the caller can create and delete its own).
#[resource(table = "fk_colors", owner = owner_id, endpoints(path = "/colors", role = "member"))]
#[derive(Debug, Clone)]
pub(crate) struct Color {
    #[resource(id)]
    pub(crate) id: Uuid,
    pub(crate) owner_id: Uuid,
    #[validate(length(min = 1, max = 20))]
    pub(crate) name: String,
}

/// A label naming a colour by id: a plain column with a foreign key, not a parent.
#[resource(table = "fk_labels", owner = owner_id, endpoints(path = "/labels", role = "member"))]
#[derive(Debug, Clone)]
pub(crate) struct Label {
    #[resource(id)]
    pub(crate) id: Uuid,
    pub(crate) owner_id: Uuid,
    #[validate(length(min = 1, max = 20))]
    pub(crate) name: String,
    pub(crate) color_id: Uuid,
}

const MIGRATIONS: rampart::Migrations = rampart::Migrations {
    sqlite: &[(
        1,
        "fk",
        "CREATE TABLE fk_colors (id BLOB PRIMARY KEY NOT NULL, owner_id BLOB NOT NULL, name TEXT NOT NULL CHECK (name <> 'forbidden')); \
         CREATE TABLE fk_labels (id BLOB PRIMARY KEY NOT NULL, owner_id BLOB NOT NULL, name TEXT NOT NULL, \
         color_id BLOB NOT NULL REFERENCES fk_colors (id));",
    )],
    postgres: &[(
        1,
        "fk",
        "CREATE TABLE fk_colors (id UUID PRIMARY KEY, owner_id UUID NOT NULL, name TEXT NOT NULL CHECK (name <> 'forbidden')); \
         CREATE TABLE fk_labels (id UUID PRIMARY KEY, owner_id UUID NOT NULL, name TEXT NOT NULL, \
         color_id UUID NOT NULL REFERENCES fk_colors (id));",
    )],
};

async fn app(backend: TestBackend) -> TestApp {
    let api = Api::new().resource::<Color>().resource::<Label>();
    match TestApp::builder(api)
        .backend(backend)
        .migrations(MIGRATIONS)
        .build()
        .await
    {
        Ok(app) => app,
        Err(error) => panic!("{backend:?}: {error}"),
    }
}

#[tokio::test]
async fn a_missing_reference_is_422_and_a_referenced_delete_is_409() {
    for backend in BACKENDS {
        let app = app(backend).await;
        let token = app.token(&["member"]);

        let dangling = app
            .post("/api/v1/labels")
            .bearer(&token)
            .json(&json!({"name": "urgent", "color_id": Uuid::now_v7()}))
            .send()
            .await;
        assert_eq!(dangling.status(), 422, "{backend:?}: {}", dangling.text());
        assert_eq!(dangling.error_code().as_deref(), Some("UNPROCESSABLE"));
        // Nothing of the database's own message reaches the client.
        assert!(
            !dangling.text().to_lowercase().contains("foreign"),
            "{}",
            dangling.text()
        );

        let color = app
            .post("/api/v1/colors")
            .bearer(&token)
            .json(&json!({"name": "red"}))
            .send()
            .await;
        assert_eq!(color.status(), 201, "{backend:?}: {}", color.text());
        let color_id = color.json()["data"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let label = app
            .post("/api/v1/labels")
            .bearer(&token)
            .json(&json!({"name": "urgent", "color_id": color_id}))
            .send()
            .await;
        assert_eq!(label.status(), 201, "{backend:?}: {}", label.text());

        let referenced = app
            .request(Method::DELETE, &format!("/api/v1/colors/{color_id}"))
            .bearer(&token)
            .send()
            .await;
        assert_eq!(
            referenced.status(),
            409,
            "{backend:?}: {}",
            referenced.text()
        );
        assert_eq!(referenced.error_code().as_deref(), Some("CONFLICT"));
        let still_there = app
            .get(&format!("/api/v1/colors/{color_id}"))
            .bearer(&token)
            .send()
            .await;
        assert_eq!(
            still_there.status(),
            200,
            "{backend:?}: {}",
            still_there.text()
        );
    }
}

#[tokio::test]
async fn a_check_constraint_is_422_not_500() {
    for backend in BACKENDS {
        let app = app(backend).await;
        let token = app.token(&["member"]);
        let refused = app
            .post("/api/v1/colors")
            .bearer(&token)
            .json(&json!({"name": "forbidden"}))
            .send()
            .await;
        assert_eq!(refused.status(), 422, "{backend:?}: {}", refused.text());
        assert_eq!(refused.error_code().as_deref(), Some("UNPROCESSABLE"));
        assert!(
            !refused.text().to_lowercase().contains("check"),
            "{}",
            refused.text()
        );
        let listed = app.get("/api/v1/colors").bearer(&token).send().await;
        assert_eq!(
            listed.json()["meta"]["total"],
            0,
            "{backend:?}: nothing stored"
        );
    }
}
