//! The taskboard's notes through the real router on SQLite and PostgreSQL: creation with
//! `Location`, ownership (another user's note is a 404), pagination meta, admin listing.

use rampart::testing::BACKENDS;
use serde_json::json;

use crate::common::{assert_error, taskboard};

#[tokio::test]
async fn notes_round_trip_and_stay_with_their_owner() {
    for backend in BACKENDS {
        let app = taskboard(backend).await;
        let alice = app.token(&["member"]);
        let bob = app.token(&["member"]);

        let title = "x'); DROP TABLE notes; --";
        let created = app
            .post("/api/v1/notes")
            .bearer(&alice)
            .json(
                &json!({"title": format!("  {title}  "), "body": "b", "tags": [{"name": "work"}]}),
            )
            .send()
            .await;
        assert_eq!(created.status(), 201, "{backend:?}: {}", created.text());
        let note = created.json()["data"].clone();
        let id = note["id"].as_str().unwrap_or_default().to_owned();
        assert_eq!(
            created.header("location"),
            Some(format!("/api/v1/notes/{id}").as_str())
        );
        assert_eq!(note["title"], title, "trimmed and stored literally");
        assert_eq!(note["tags"], json!(["work"]));
        assert_eq!(created.json()["meta"], serde_json::Value::Null);
        assert_eq!(created.json()["error"], serde_json::Value::Null);

        let fetched = app
            .get(&format!("/api/v1/notes/{id}"))
            .bearer(&alice)
            .send()
            .await;
        assert_eq!(fetched.status(), 200);
        assert_eq!(fetched.json()["data"], note);

        // Not yours is the same 404 as not there.
        assert_error(
            &app.get(&format!("/api/v1/notes/{id}"))
                .bearer(&bob)
                .send()
                .await,
            404,
            "NOT_FOUND",
        );
        let missing = uuid::Uuid::now_v7();
        assert_error(
            &app.get(&format!("/api/v1/notes/{missing}"))
                .bearer(&alice)
                .send()
                .await,
            404,
            "NOT_FOUND",
        );
        assert_error(
            &app.request(
                rampart::__private::axum::http::Method::DELETE,
                &format!("/api/v1/notes/{id}"),
            )
            .bearer(&bob)
            .send()
            .await,
            404,
            "NOT_FOUND",
        );

        for i in 0..4 {
            let response = app
                .post("/api/v1/notes")
                .bearer(&alice)
                .json(&json!({"title": format!("note {i}")}))
                .send()
                .await;
            assert_eq!(response.status(), 201);
        }
        let page = app
            .get("/api/v1/notes?per_page=2&page=2")
            .bearer(&alice)
            .send()
            .await;
        assert_eq!(page.status(), 200, "{}", page.text());
        assert_eq!(
            page.json()["meta"],
            json!({"page": 2, "per_page": 2, "total": 5, "next_cursor": null})
        );
        assert_eq!(page.json()["data"].as_array().map(Vec::len), Some(2));
        let filtered = app
            .get("/api/v1/notes?q=note%201")
            .bearer(&alice)
            .send()
            .await;
        assert_eq!(filtered.json()["meta"]["total"], 1, "{}", filtered.text());
        let literal = app.get("/api/v1/notes?q=%25").bearer(&alice).send().await;
        assert_eq!(
            literal.json()["meta"]["total"],
            0,
            "`%` is matched literally"
        );

        let bobs = app.get("/api/v1/notes").bearer(&bob).send().await;
        assert_eq!(bobs.json()["meta"]["total"], 0);
        assert_eq!(bobs.json()["data"], json!([]));

        let all = app
            .get("/api/v1/admin/notes")
            .bearer(&app.token(&["admin"]))
            .send()
            .await;
        assert_eq!(all.json()["meta"]["total"], 5);
        let stats = app
            .get("/api/v1/stats")
            .bearer(&app.token(&["auditor"]))
            .send()
            .await;
        assert_eq!(stats.json()["data"], json!({"notes": 5, "owners": 1}));

        let deleted = app
            .request(
                rampart::__private::axum::http::Method::DELETE,
                &format!("/api/v1/notes/{id}"),
            )
            .bearer(&alice)
            .send()
            .await;
        assert_eq!(deleted.status(), 204);
        assert!(deleted.text().is_empty());
        assert_error(
            &app.get(&format!("/api/v1/notes/{id}"))
                .bearer(&alice)
                .send()
                .await,
            404,
            "NOT_FOUND",
        );

        let me = app.get("/api/v1/me").bearer(&alice).send().await;
        assert_eq!(me.json()["data"]["scheme"], "jwt");
        assert_eq!(app.get("/health/ready").send().await.status(), 200);
    }
}
