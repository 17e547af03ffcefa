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

#[derive(Debug, serde::Serialize, rampart::Schema)]
struct Word {
    word: String,
}

/// Echoes a path parameter.
#[endpoint(get = "/echo/{word}", public)]
async fn echo(Path(word): Path<String>) -> ApiResult<Word> {
    Ok(Word { word })
}

/// Path parameters and list filters are string input too: control characters other than tab,
/// LF and CR are a 400 naming the parameter, as in bodies.
#[tokio::test]
async fn control_characters_in_paths_and_filters_are_refused() {
    let app = match TestApp::builder(Api::new().mount(echo)).build().await {
        Ok(app) => app,
        Err(error) => panic!("{error}"),
    };
    let refused = app.get("/api/v1/echo/a%07b").send().await;
    assert_eq!(refused.status(), 400, "{}", refused.text());
    assert_eq!(refused.json()["error"]["details"][0]["field"], "word");
    let tab = app.get("/api/v1/echo/a%09b").send().await;
    assert_eq!(tab.status(), 200, "{}", tab.text());
    assert_eq!(tab.json()["data"]["word"], "a\tb");

    for backend in rampart::testing::BACKENDS {
        let board = crate::common::taskboard(backend).await;
        let token = board.token(&["member"]);
        let filtered = board
            .get("/api/v1/projects?name=a%1Bb")
            .bearer(&token)
            .send()
            .await;
        assert_eq!(filtered.status(), 400, "{backend:?}: {}", filtered.text());
        assert_eq!(filtered.json()["error"]["details"][0]["field"], "name");
    }
}
