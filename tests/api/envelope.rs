//! Every error the stack produces is an envelope with the right status and code, the request
//! id in header and body, and `application/json` (the acceptance table of the foundation).

use rampart::testing::{BACKENDS, TestBackend};
use serde_json::json;

use crate::common::{assert_error, taskboard};

#[tokio::test]
async fn input_errors_are_400_envelopes_naming_the_field() {
    for backend in BACKENDS {
        let app = taskboard(backend).await;
        let token = app.token(&["member"]);

        let malformed = app
            .post("/api/v1/notes")
            .bearer(&token)
            .header("content-type", "application/json")
            .body("{\"title\": ")
            .send()
            .await;
        assert_error(&malformed, 400, "BAD_REQUEST");

        let wrong_type = app
            .post("/api/v1/notes")
            .bearer(&token)
            .json(&json!({"title": 42}))
            .send()
            .await;
        assert_error(&wrong_type, 400, "BAD_REQUEST");
        assert_eq!(wrong_type.json()["error"]["details"][0]["field"], "title");

        let unknown = app
            .post("/api/v1/notes")
            .bearer(&token)
            .json(&json!({"title": "x", "owner_id": "y"}))
            .send()
            .await;
        assert_error(&unknown, 400, "BAD_REQUEST");
        assert_eq!(
            unknown.json()["error"]["details"][0]["field"],
            "owner_id",
            "{}",
            unknown.text()
        );
        let nested = app
            .post("/api/v1/notes")
            .bearer(&token)
            .json(&json!({"title": "x", "tags": [{"name": "a", "color": "red"}]}))
            .send()
            .await;
        assert_error(&nested, 400, "BAD_REQUEST");
        assert_eq!(
            nested.json()["error"]["details"][0]["field"],
            "tags[0].color",
            "{}",
            nested.text()
        );

        let invalid = app
            .post("/api/v1/notes")
            .bearer(&token)
            .json(&json!({"title": "", "tags": [{"name": "a"}, {"name": "b"}, {"name": ""}]}))
            .send()
            .await;
        assert_error(&invalid, 400, "VALIDATION_ERROR");
        let fields: Vec<String> = invalid.json()["error"]["details"]
            .as_array()
            .map(|d| {
                d.iter()
                    .filter_map(|x| x["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            fields,
            vec!["tags[2].name".to_owned(), "title".to_owned()],
            "{}",
            invalid.text()
        );

        let no_type = app
            .post("/api/v1/notes")
            .bearer(&token)
            .body("{\"title\":\"x\"}")
            .send()
            .await;
        assert_error(&no_type, 415, "UNSUPPORTED_MEDIA_TYPE");
        let text = app
            .post("/api/v1/notes")
            .bearer(&token)
            .header("content-type", "text/plain")
            .body("{\"title\":\"x\"}")
            .send()
            .await;
        assert_error(&text, 415, "UNSUPPORTED_MEDIA_TYPE");

        let bad_path = app
            .get("/api/v1/notes/not-a-uuid")
            .bearer(&token)
            .send()
            .await;
        assert_error(&bad_path, 400, "BAD_REQUEST");

        let bad_query = app
            .get("/api/v1/notes?per_page=lots")
            .bearer(&token)
            .send()
            .await;
        assert_error(&bad_query, 400, "VALIDATION_ERROR");
        assert_eq!(bad_query.json()["error"]["details"][0]["field"], "per_page");
        let out_of_range = app
            .get("/api/v1/notes?per_page=101")
            .bearer(&token)
            .send()
            .await;
        assert_error(&out_of_range, 400, "VALIDATION_ERROR");
        let page_zero = app.get("/api/v1/notes?page=0").bearer(&token).send().await;
        assert_error(&page_zero, 400, "VALIDATION_ERROR");
        let short_q = app.get("/api/v1/notes?q=").bearer(&token).send().await;
        assert_error(&short_q, 400, "VALIDATION_ERROR");
        assert_eq!(short_q.json()["error"]["details"][0]["field"], "q");
    }
}

#[tokio::test]
async fn a_two_mebibyte_body_is_413_after_authentication_and_401_before() {
    for backend in BACKENDS {
        a_two_mebibyte_body_is_413_after_authentication_and_401_before_on(backend).await;
    }
}

async fn a_two_mebibyte_body_is_413_after_authentication_and_401_before_on(backend: TestBackend) {
    let app = taskboard(backend).await;
    let token = app.token(&["member"]);
    let huge = format!("{{\"title\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let too_large = app
        .post("/api/v1/notes")
        .bearer(&token)
        .header("content-type", "application/json")
        .body(huge.clone())
        .send()
        .await;
    assert_error(&too_large, 413, "PAYLOAD_TOO_LARGE");
    // The body is read only after authentication.
    let anonymous = app
        .post("/api/v1/notes")
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await;
    assert_error(&anonymous, 401, "UNAUTHENTICATED");
    // The endpoint's own limit (64 KiB) applies below the app default (1 MiB).
    let medium = format!(
        "{{\"title\":\"t\",\"body\":\"{}\"}}",
        "x".repeat(100 * 1024)
    );
    let over_endpoint_limit = app
        .post("/api/v1/notes")
        .bearer(&token)
        .header("content-type", "application/json")
        .body(medium)
        .send()
        .await;
    assert_error(&over_endpoint_limit, 413, "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn routing_errors_are_envelopes() {
    for backend in BACKENDS {
        routing_errors_are_envelopes_on(backend).await;
    }
}

async fn routing_errors_are_envelopes_on(backend: TestBackend) {
    let app = taskboard(backend).await;
    let unknown = app.get("/api/v1/nowhere").send().await;
    assert_error(&unknown, 404, "NOT_FOUND");
    let root_unknown = app.get("/favicon.ico").send().await;
    assert_error(&root_unknown, 404, "NOT_FOUND");
    let method = app
        .request(rampart::__private::axum::http::Method::PUT, "/api/v1/info")
        .send()
        .await;
    assert_error(&method, 405, "METHOD_NOT_ALLOWED");
    assert!(
        method
            .header("allow")
            .is_some_and(|allow| allow.contains("GET")),
        "Allow: {:?}",
        method.header("allow")
    );
}

#[tokio::test]
async fn request_ids_are_accepted_only_when_sane() {
    for backend in BACKENDS {
        request_ids_are_accepted_only_when_sane_on(backend).await;
    }
}

async fn request_ids_are_accepted_only_when_sane_on(backend: TestBackend) {
    let app = taskboard(backend).await;
    let sane = app
        .get("/api/v1/info")
        .header("x-request-id", "trace-abc.123_X")
        .send()
        .await;
    assert_eq!(sane.header("x-request-id"), Some("trace-abc.123_X"));

    let long = "a".repeat(600);
    let hostile = app
        .get("/api/v1/me")
        .header("x-request-id", &long)
        .send()
        .await;
    assert_error(&hostile, 401, "UNAUTHENTICATED");
    let replaced = hostile.header("x-request-id").unwrap_or_default();
    assert_ne!(replaced, long);
    assert_eq!(
        uuid::Uuid::parse_str(replaced).map(|u| u.get_version_num()),
        Ok(7)
    );

    // CR/LF cannot even be sent as a header value; a value with spaces and quotes is replaced.
    let injected = app
        .get("/api/v1/info")
        .header("x-request-id", "a b\"c")
        .send()
        .await;
    assert_ne!(injected.header("x-request-id"), Some("a b\"c"));
    let request = rampart::__private::axum::http::Request::builder()
        .uri("/api/v1/info")
        .header(
            "x-request-id",
            rampart::__private::axum::http::HeaderValue::from_bytes(b"abc\x7fdef").unwrap_or(
                rampart::__private::axum::http::HeaderValue::from_static("x"),
            ),
        )
        .body(rampart::__private::axum::body::Body::empty());
    if let Ok(request) = request {
        let response = app.send(request).await;
        assert_ne!(response.header("x-request-id"), Some("abc\u{7f}def"));
    }
}
