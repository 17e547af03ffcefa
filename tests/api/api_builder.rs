//! The `Api` builder: merged routes keep authentication by default (`merge_public` opts out);
//! handlers build links under whatever prefix the API is mounted at.

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

#[derive(Debug, serde::Serialize, rampart::Schema)]
struct Thing {
    id: u32,
}

/// Creates a thing; its Location comes from the API's prefix, not a hard-coded one.
#[endpoint(post = "/things", public)]
async fn create_thing(ctx: Ctx) -> ApiResult<Created<Thing>> {
    Ok(Created::at(ctx.api_path("/things/7"), Thing { id: 7 }))
}

#[tokio::test]
async fn locations_follow_the_api_prefix() {
    for (api, expected) in [
        (Api::new(), "/api/v1/things/7"),
        (Api::new().prefix("/api/v2"), "/api/v2/things/7"),
        (Api::new().prefix(""), "/things/7"),
    ] {
        let app = match TestApp::builder(api.mount(create_thing)).build().await {
            Ok(app) => app,
            Err(error) => panic!("{error}"),
        };
        let path = expected.trim_end_matches("/7");
        let created = app.post(path).send().await;
        assert_eq!(created.status(), 201, "{}", created.text());
        assert_eq!(created.header("location"), Some(expected));
    }
}
