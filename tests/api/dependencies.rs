//! Typed dependencies (`Dep<T>`) through the real router: a registered value reaches the
//! handler, a forgotten registration stops `into_router` naming the type, the test kit's
//! `dep` wins over the app's own set, and a merged route that finds nothing is a 500 envelope
//! with the type in the log only.

use axum::routing::get;
use rampart::prelude::*;
use rampart::testing::{BACKENDS, TestApp, TestError, log_lines_with};
use rampart::{ApiBuildError, Dependencies};
use serde::Serialize;
use serde_json::json;

use crate::common::assert_error;
use crate::taskboard::clock::Clock;

/// What the test endpoints depend on.
#[derive(Debug)]
struct Greeter {
    greeting: &'static str,
}

#[derive(Serialize, Schema)]
struct Greeting {
    text: String,
}

#[endpoint(get = "/greeting", public)]
async fn greeting(greeter: Dep<Greeter>) -> ApiResult<Greeting> {
    Ok(Greeting {
        text: format!("{}, world", greeter.greeting),
    })
}

/// An app's own extractor that happens to be called `Dep`: not rampart's, so nothing is
/// required at start-up for it.
mod own {
    use axum::extract::FromRequestParts;
    use axum::http::request::Parts;

    pub(crate) struct Dep<T>(pub(crate) T);

    impl<S: Send + Sync> FromRequestParts<S> for Dep<u8> {
        type Rejection = rampart::ApiError;

        async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
            Ok(Dep(7))
        }
    }
}

#[endpoint(get = "/own-dep", public)]
async fn own_dep(value: own::Dep<u8>) -> ApiResult<Greeting> {
    Ok(Greeting {
        text: value.0.to_string(),
    })
}

/// A plain axum handler: `Dep<T>` works there too, but nothing checks it before a request.
async fn plain(greeter: Dep<Greeter>) -> String {
    greeter.greeting.to_owned()
}

async fn build(builder: rampart::testing::TestAppBuilder) -> TestApp {
    builder
        .build()
        .await
        .unwrap_or_else(|error| panic!("cannot build the app: {error}"))
}

#[tokio::test]
async fn a_registered_dependency_reaches_the_handler() {
    let app =
        build(TestApp::builder(Api::new().mount(greeting)).dep(Greeter { greeting: "hello" }))
            .await;
    let response = app.get("/api/v1/greeting").send().await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json()["data"], json!({"text": "hello, world"}));
}

#[tokio::test]
async fn a_missing_dependency_stops_the_router_at_start_up_naming_the_type() {
    let result = TestApp::builder(Api::new().mount(greeting)).build().await;
    let Err(TestError::Build(error)) = result else {
        panic!("the router was built without the Greeter it needs");
    };
    let type_name = std::any::type_name::<Greeter>();
    assert!(
        matches!(
            error,
            ApiBuildError::MissingDependency { type_name: name, operation_id: "greeting", ref also }
                if name == type_name && also.is_empty()
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains(&format!(
            "endpoint `greeting` takes `Dep<{type_name}>`, but no `{type_name}` is registered; register one with `App::dep(..)`"
        )),
        "{error}"
    );
    assert!(type_name.ends_with("dependencies::Greeter"), "{type_name}");

    // Straight through `Api::into_router`, as `main` calls it.
    let config = rampart::Config::from_lookup(&|name| match name {
        "JWT_SECRET" => Some("rampart-test-secret-of-at-least-32-bytes".to_owned()),
        _ => None,
    })
    .unwrap_or_else(|error| panic!("{error}"));
    let app = rampart::App::new(config, None);
    let refused = Api::new().mount(greeting).into_router(&app).err();
    assert!(
        matches!(refused, Some(ApiBuildError::MissingDependency { .. })),
        "{refused:?}"
    );
    let registered = app.dep(Greeter { greeting: "hi" });
    assert!(Api::new().mount(greeting).into_router(&registered).is_ok());
}

/// Dependencies the endpoints below need and no test registers.
#[derive(Debug)]
struct Outbox;

#[derive(Debug)]
struct Ledger;

#[derive(Debug)]
struct Archive;

/// rampart's `Dep` under another name: an alias, and a renamed import.
type Mail = rampart::Dep<Outbox>;

mod renamed {
    use rampart::Dep as Needs;
    use rampart::prelude::{ApiResult, NoContent, endpoint};

    #[endpoint(post = "/ledger", public)]
    pub(crate) async fn book(ledger: Needs<super::Ledger>) -> ApiResult<NoContent> {
        let _ = ledger;
        Ok(NoContent)
    }
}

#[endpoint(post = "/mail", public)]
async fn send_mail(mail: Mail) -> ApiResult<NoContent> {
    let _ = mail;
    Ok(NoContent)
}

/// An endpoint written by `macro_rules!`: the argument's type reaches `#[endpoint]` as an
/// invisible group, and in parentheses.
mod generated {
    #![allow(unused_parens)]

    use rampart::prelude::*;

    macro_rules! archiving_endpoint {
        ($name:ident, $path:literal, $ty:ty) => {
            #[endpoint(post = $path, public)]
            pub(crate) async fn $name(archive: ($ty)) -> ApiResult<NoContent> {
                let _ = archive;
                Ok(NoContent)
            }
        };
    }

    archiving_endpoint!(archive, "/archive", Dep<super::Archive>);
}

use generated::archive;

fn missing_of(error: &ApiBuildError) -> Vec<(&'static str, &'static str)> {
    let ApiBuildError::MissingDependency {
        type_name,
        operation_id,
        also,
    } = error
    else {
        panic!("not a missing dependency: {error:?}");
    };
    std::iter::once((*type_name, *operation_id))
        .chain(also.iter().map(|dep| (dep.type_name, dep.operation_id)))
        .collect()
}

#[tokio::test]
async fn a_dep_under_an_alias_a_renamed_import_or_a_macro_is_checked_at_start_up() {
    use std::any::type_name;
    for (api, type_name, operation_id) in [
        (
            Api::new().mount(send_mail),
            type_name::<Outbox>(),
            "send_mail",
        ),
        (
            Api::new().mount(renamed::book),
            type_name::<Ledger>(),
            "book",
        ),
        (Api::new().mount(archive), type_name::<Archive>(), "archive"),
    ] {
        let result = TestApp::builder(api).build().await;
        let Err(TestError::Build(error)) = result else {
            panic!("`{operation_id}` was built without the {type_name} it needs");
        };
        assert_eq!(missing_of(&error), [(type_name, operation_id)], "{error}");
        assert_eq!(
            error.to_string(),
            format!(
                "endpoint `{operation_id}` takes `Dep<{type_name}>`, but no `{type_name}` is registered; register one with `App::dep(..)`"
            )
        );
    }
    // Registered, each is served.
    let app = build(
        TestApp::builder(
            Api::new()
                .mount(send_mail)
                .mount(renamed::book)
                .mount(archive),
        )
        .dep(Outbox)
        .dep(Ledger)
        .dep(Archive),
    )
    .await;
    for path in ["/api/v1/mail", "/api/v1/ledger", "/api/v1/archive"] {
        let response = app.post(path).send().await;
        assert_eq!(response.status(), 204, "{path}: {}", response.text());
    }
}

#[tokio::test]
async fn every_missing_dependency_is_listed_in_one_error() {
    use std::any::type_name;
    let api = Api::new()
        .mount(greeting)
        .mount(send_mail)
        .mount(renamed::book)
        .mount(archive);
    let result = TestApp::builder(api).dep(Ledger).build().await;
    let Err(TestError::Build(error)) = result else {
        panic!("the router was built without the dependencies it needs");
    };
    let expected = [
        (type_name::<Greeter>(), "greeting"),
        (type_name::<Outbox>(), "send_mail"),
        (type_name::<Archive>(), "archive"),
    ];
    assert_eq!(missing_of(&error), expected, "{error}");
    let message = error.to_string();
    for (type_name, operation_id) in expected {
        assert!(
            message.contains(&format!(
                "endpoint `{operation_id}` takes `Dep<{type_name}>`, but no `{type_name}` is registered"
            )),
            "{message}"
        );
    }
    assert!(!message.contains("Ledger"), "{message}");
    assert!(
        message.ends_with("register each with `App::dep(..)`"),
        "{message}"
    );
}

#[tokio::test]
async fn an_app_extractor_also_named_dep_requires_nothing() {
    let app = build(TestApp::builder(Api::new().mount(own_dep))).await;
    let response = app.get("/api/v1/own-dep").send().await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json()["data"], json!({"text": "7"}));
}

#[tokio::test]
async fn the_test_kit_override_wins_over_the_app_set_in_either_order() {
    let app_set = || Dependencies::new().with(Greeter { greeting: "app" });
    let after = build(
        TestApp::builder(Api::new().mount(greeting))
            .dependencies(app_set())
            .dep(Greeter { greeting: "test" }),
    )
    .await;
    let before = build(
        TestApp::builder(Api::new().mount(greeting))
            .dep(Greeter { greeting: "test" })
            .dependencies(app_set()),
    )
    .await;
    for app in [after, before] {
        let response = app.get("/api/v1/greeting").send().await;
        assert_eq!(response.json()["data"]["text"], "test, world");
    }
    let app_only =
        build(TestApp::builder(Api::new().mount(greeting)).dependencies(app_set())).await;
    let response = app_only.get("/api/v1/greeting").send().await;
    assert_eq!(response.json()["data"]["text"], "app, world");
}

#[tokio::test]
async fn the_taskboard_stamps_notes_with_the_clock_a_test_puts_in() {
    let stopped = chrono::DateTime::parse_from_rfc3339("2030-01-02T03:04:05.678901Z")
        .unwrap_or_else(|error| panic!("{error}"))
        .with_timezone(&chrono::Utc);
    for backend in BACKENDS {
        let app = build(
            crate::common::taskboard_builder()
                .dep(Clock::fixed(stopped))
                .backend(backend)
                .migrations(crate::taskboard::MIGRATIONS)
                .with_identity(),
        )
        .await;
        let member = app.token(&["member"]);
        let created = app
            .post("/api/v1/notes")
            .bearer(&member)
            .json(&json!({"title": "at a fixed time"}))
            .send()
            .await;
        assert_eq!(created.status(), 201, "{backend:?}: {}", created.text());
        let note = created.json()["data"].clone();
        assert_eq!(
            note["created_at"], "2030-01-02T03:04:05.678901Z",
            "{backend:?}"
        );
        let id = note["id"].as_str().unwrap_or_default();
        let fetched = app
            .get(&format!("/api/v1/notes/{id}"))
            .bearer(&member)
            .send()
            .await;
        assert_eq!(fetched.json()["data"]["created_at"], note["created_at"]);
    }
}

#[tokio::test]
async fn a_merged_route_without_its_dependency_is_a_500_envelope_and_a_log_line() {
    let api = Api::new().merge_public(axum::Router::new().route("/plain/greeting", get(plain)));
    // Merged routes are not declared, so nothing stops the build.
    let app = build(TestApp::builder(api)).await;
    let request_id = format!("dep-missing-{}", uuid::Uuid::new_v4().simple());
    let response = app
        .get("/plain/greeting")
        .header("x-request-id", &request_id)
        .send()
        .await;
    assert_error(&response, 500, "INTERNAL");
    let body = response.text();
    assert!(
        !body.contains("Greeter"),
        "no internals in the body: {body}"
    );
    assert!(!body.contains("Dep"), "no internals in the body: {body}");
    let lines: Vec<String> = log_lines_with(&request_id)
        .iter()
        .map(|line| line.to_string())
        .filter(|line| line.contains("request failed"))
        .collect();
    assert!(
        lines
            .iter()
            .any(|line| line.contains(std::any::type_name::<Greeter>())),
        "the log names the type: {lines:?}"
    );

    // Registered, the same plain route is served.
    let api = Api::new().merge_public(axum::Router::new().route("/plain/greeting", get(plain)));
    let app = build(TestApp::builder(api).dep(Greeter { greeting: "plain" })).await;
    let response = app.get("/plain/greeting").send().await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text(), "plain");
}
