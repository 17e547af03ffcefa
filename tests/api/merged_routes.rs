//! `Api::merge`: plain axum routes keep authentication by default; `merge_public` opts out.

use axum::routing::get;
use rampart::prelude::*;
use rampart::testing::TestApp;

async fn merged_app() -> TestApp {
    let api = Api::new()
        .merge(axum::Router::new().route("/plain/secret", get(|| async { "secret" })))
        .merge_public(axum::Router::new().route("/plain/open", get(|| async { "open" })));
    match TestApp::builder(api).build().await {
        Ok(app) => app,
        Err(error) => panic!("{error}"),
    }
}

#[tokio::test]
async fn merged_routes_require_authentication() {
    let app = merged_app().await;

    let anonymous = app.get("/plain/secret").send().await;
    assert_eq!(anonymous.status(), 401, "{}", anonymous.text());
    assert_eq!(anonymous.error_code().as_deref(), Some("UNAUTHENTICATED"));
    assert!(anonymous.header("www-authenticate").is_some());

    let forged = app.get("/plain/secret").bearer("not-a-token").send().await;
    assert_eq!(forged.status(), 401);

    let member = app
        .get("/plain/secret")
        .bearer(&app.token(&["member"]))
        .send()
        .await;
    assert_eq!(member.status(), 200);
    assert_eq!(member.text(), "secret");
}

#[tokio::test]
async fn merge_public_is_the_explicit_opt_out() {
    let app = merged_app().await;
    let open = app.get("/plain/open").send().await;
    assert_eq!(open.status(), 200);
    assert_eq!(open.text(), "open");
    // An unknown path stays a 404 for everyone: the access layer sits on the routes only.
    let unknown = app.get("/plain/nowhere").send().await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(unknown.error_code().as_deref(), Some("NOT_FOUND"));
}
