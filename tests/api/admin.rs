//! Administration through the taskboard's router on SQLite and PostgreSQL: listing users,
//! changing roles (never your own; a demoted user's next refreshed token lacks the role), and
//! disabling (refresh tokens and API keys stop at once).

use rampart::testing::{BACKENDS, TestApp, TestResponse};
use serde_json::json;

use crate::common::assert_error;

use crate::common::PASSWORD;

async fn account(app: &TestApp, admin: bool) -> (String, String, String) {
    if !admin {
        let account = crate::common::account(app, "u").await;
        return (account.id.to_string(), account.access, account.refresh);
    }
    let email = format!("u.{}@example.com", uuid::Uuid::new_v4().simple());
    let created =
        rampart::identity::ensure_admin(app.app(), rampart::rbac!(), &email, PASSWORD.to_owned())
            .await;
    assert!(created.is_ok());
    let (access, refresh) = crate::common::login(app, &email).await;
    let me = app.get("/api/v1/me").bearer(&access).send().await;
    let user_id = me.json()["data"]["user_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (user_id, access, refresh)
}

async fn refresh(app: &TestApp, token: &str) -> TestResponse {
    app.post("/api/v1/auth/refresh")
        .json(&json!({"refresh_token": token}))
        .send()
        .await
}

#[tokio::test]
async fn administrators_list_change_roles_and_disable() {
    for backend in BACKENDS {
        let app = crate::common::taskboard(backend).await;
        let (admin_id, admin, _) = account(&app, true).await;
        let (user_id, member, member_refresh) = account(&app, false).await;

        assert_error(
            &app.get("/api/v1/admin/users").bearer(&member).send().await,
            403,
            "FORBIDDEN",
        );
        let listed = app
            .get("/api/v1/admin/users?per_page=1")
            .bearer(&admin)
            .send()
            .await;
        assert_eq!(listed.status(), 200, "{backend:?}: {}", listed.text());
        assert_eq!(
            listed.json()["meta"],
            json!({"page": 1, "per_page": 1, "total": 2, "next_cursor": null})
        );
        assert!(
            !listed.text().contains("argon2"),
            "no password hashes in listings"
        );

        // Nobody changes their own roles.
        let own = app
            .request(
                rampart::__private::axum::http::Method::PUT,
                &format!("/api/v1/admin/users/{admin_id}/roles"),
            )
            .bearer(&admin)
            .json(&json!({"roles": ["member"]}))
            .send()
            .await;
        assert_error(&own, 403, "FORBIDDEN");

        // Promote, then demote: the next refreshed token carries the new roles.
        let promote = app
            .request(
                rampart::__private::axum::http::Method::PUT,
                &format!("/api/v1/admin/users/{user_id}/roles"),
            )
            .bearer(&admin)
            .json(&json!({"roles": ["member", "auditor"]}))
            .send()
            .await;
        assert_eq!(promote.status(), 200, "{}", promote.text());
        assert_eq!(
            promote.json()["data"]["roles"],
            json!(["auditor", "member"])
        );
        let refreshed = refresh(&app, &member_refresh).await;
        let access = refreshed.json()["data"]["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert_eq!(
            app.get("/api/v1/stats")
                .bearer(&access)
                .send()
                .await
                .status(),
            200,
            "auditor now"
        );
        let demote = app
            .request(
                rampart::__private::axum::http::Method::PUT,
                &format!("/api/v1/admin/users/{user_id}/roles"),
            )
            .bearer(&admin)
            .json(&json!({"roles": ["member"]}))
            .send()
            .await;
        assert_eq!(demote.status(), 200);
        let next_refresh = refreshed.json()["data"]["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let demoted = refresh(&app, &next_refresh).await;
        let access = demoted.json()["data"]["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert_error(
            &app.get("/api/v1/stats").bearer(&access).send().await,
            403,
            "FORBIDDEN",
        );

        let bad_role = app
            .request(
                rampart::__private::axum::http::Method::PUT,
                &format!("/api/v1/admin/users/{user_id}/roles"),
            )
            .bearer(&admin)
            .json(&json!({"roles": ["Root Access"]}))
            .send()
            .await;
        assert_error(&bad_role, 400, "VALIDATION_ERROR");
        // Role names the app's `roles!` table does not declare are refused, named by index,
        // and nothing is stored.
        let unknown = app
            .request(
                rampart::__private::axum::http::Method::PUT,
                &format!("/api/v1/admin/users/{user_id}/roles"),
            )
            .bearer(&admin)
            .json(&json!({"roles": ["member", "superuser", "membr"]}))
            .send()
            .await;
        assert_error(&unknown, 400, "VALIDATION_ERROR");
        let details = &unknown.json()["error"]["details"];
        assert_eq!(details.as_array().map(Vec::len), Some(2), "{details}");
        assert_eq!(details[0]["field"], "roles[1]", "{details}");
        assert!(
            details[0]["issue"]
                .as_str()
                .unwrap_or_default()
                .contains("superuser"),
            "{details}"
        );
        assert_eq!(details[1]["field"], "roles[2]", "{details}");
        assert!(
            details[1]["issue"]
                .as_str()
                .unwrap_or_default()
                .contains("membr"),
            "{details}"
        );
        let listed = app
            .get("/api/v1/admin/users?per_page=100")
            .bearer(&admin)
            .send()
            .await;
        let stored = listed.json()["data"]
            .as_array()
            .and_then(|users| {
                users
                    .iter()
                    .find(|u| u["id"] == json!(user_id))
                    .map(|u| u["roles"].clone())
            })
            .unwrap_or_default();
        assert_eq!(stored, json!(["member"]), "{}", listed.text());
        // `admin` is in every table.
        let promoted = app
            .request(
                rampart::__private::axum::http::Method::PUT,
                &format!("/api/v1/admin/users/{user_id}/roles"),
            )
            .bearer(&admin)
            .json(&json!({"roles": ["admin", "member"]}))
            .send()
            .await;
        assert_eq!(promoted.status(), 200, "{}", promoted.text());
        let restored = app
            .request(
                rampart::__private::axum::http::Method::PUT,
                &format!("/api/v1/admin/users/{user_id}/roles"),
            )
            .bearer(&admin)
            .json(&json!({"roles": ["member"]}))
            .send()
            .await;
        assert_eq!(restored.status(), 200, "{}", restored.text());
        let missing = app
            .request(
                rampart::__private::axum::http::Method::PUT,
                &format!("/api/v1/admin/users/{}/roles", uuid::Uuid::now_v7()),
            )
            .bearer(&admin)
            .json(&json!({"roles": ["member"]}))
            .send()
            .await;
        assert_error(&missing, 404, "NOT_FOUND");

        // Disable: refresh tokens and API keys stop at once; login fails like bad credentials.
        let key = crate::common::create_api_key(&app, &access, "k").await;
        assert_eq!(
            app.get("/api/v1/me")
                .header("x-api-key", &key)
                .send()
                .await
                .status(),
            200
        );
        let latest_refresh = demoted.json()["data"]["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let disabled = app
            .post(&format!("/api/v1/admin/users/{user_id}/disable"))
            .bearer(&admin)
            .send()
            .await;
        assert_eq!(disabled.status(), 204, "{}", disabled.text());
        assert_error(
            &refresh(&app, &latest_refresh).await,
            401,
            "UNAUTHENTICATED",
        );
        assert_error(
            &app.get("/api/v1/me").header("x-api-key", &key).send().await,
            401,
            "UNAUTHENTICATED",
        );
        let login = app
            .post("/api/v1/auth/login")
            .json(&json!({"email": "nobody", "password": PASSWORD}))
            .send()
            .await;
        assert_error(&login, 401, "INVALID_CREDENTIALS");
        assert_error(
            &app.post(&format!("/api/v1/admin/users/{admin_id}/disable"))
                .bearer(&admin)
                .send()
                .await,
            403,
            "FORBIDDEN",
        );
    }
}
