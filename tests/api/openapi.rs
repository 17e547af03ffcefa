//! The taskboard's OpenAPI document: compared with the committed snapshot, and checked for
//! what the declarations imply. Regenerate with `RAMPART_UPDATE_SNAPSHOTS=1 cargo test`.

use rampart::testing::{BACKENDS, TestBackend};
use serde_json::{Value, json};

const SNAPSHOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/snapshots/taskboard.openapi.json"
);

fn document() -> Value {
    crate::taskboard::api().openapi_json()
}

#[test]
fn the_document_matches_the_committed_snapshot() {
    let generated = serde_json::to_string_pretty(&crate::taskboard::api().openapi_json())
        .unwrap_or_default()
        + "\n";
    if std::env::var_os("RAMPART_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(SNAPSHOT, &generated)
            .unwrap_or_else(|e| panic!("cannot write {SNAPSHOT}: {e}"));
    }
    let committed = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    assert!(
        committed == generated,
        "the OpenAPI document changed; review and run `RAMPART_UPDATE_SNAPSHOTS=1 cargo test` to accept it"
    );
}

#[test]
fn responses_security_and_constraints_follow_the_declarations() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = &doc["paths"];
    let statuses = |path: &str, method: &str| -> Vec<String> {
        paths[path][method]["responses"]
            .as_object()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default()
    };

    // Public, no input: only success, its revalidation (304), 429 (too many in flight from
    // one client), 500 and 503.
    assert_eq!(
        statuses("/api/v1/info", "get"),
        vec!["200", "304", "429", "500", "503"]
    );
    // A read documents its validator, the caching header and `If-None-Match`.
    let info = &paths["/api/v1/info"]["get"];
    assert!(info["responses"]["200"]["headers"]["ETag"].is_object());
    assert!(info["responses"]["200"]["headers"]["Cache-Control"].is_object());
    assert!(info["responses"]["304"]["headers"]["ETag"].is_object());
    assert!(
        info["responses"]["304"]["content"].is_null(),
        "a 304 has no body"
    );
    assert_eq!(info["parameters"][0]["name"], "If-None-Match");
    assert_eq!(info["parameters"][0]["in"], "header");
    // The health endpoints have no in-flight cap.
    assert_eq!(
        statuses("/health/live", "get"),
        vec!["200", "304", "500", "503"]
    );
    // Public is said explicitly: the empty requirement (Redocly's security-defined rule).
    assert_eq!(paths["/api/v1/info"]["get"]["security"], json!([{}]));
    // Authenticated, no input.
    assert_eq!(
        statuses("/api/v1/me", "get"),
        vec!["200", "304", "401", "429", "500", "503"]
    );
    assert_eq!(
        paths["/api/v1/me"]["get"]["security"],
        json!([{"bearerAuth": []}, {"apiKeyAuth": []}])
    );
    // `auth = "jwt"` narrows the alternatives.
    assert_eq!(
        paths["/api/v1/auth/api-keys"]["post"]["security"],
        json!([{"bearerAuth": []}])
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["apiKeyAuth"]["in"],
        "header"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["apiKeyAuth"]["name"],
        "X-API-Key"
    );
    // Role, body, rate limit: 400, 401, 403 (naming the role), 408 (body deadline), 413, 415,
    // 429; 201 + Location.
    assert_eq!(
        statuses("/api/v1/notes", "post"),
        vec![
            "201", "400", "401", "403", "408", "413", "415", "429", "500", "503"
        ]
    );
    assert_eq!(paths["/api/v1/notes"]["post"]["x-rate-limit"]["limit"], 60);
    let post = &paths["/api/v1/notes"]["post"];
    assert!(
        post["responses"]["403"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("member"))
    );
    assert!(post["responses"]["201"]["headers"]["Location"].is_object());
    assert_eq!(
        post["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/NewNote"
    );
    // Path parameter: 404.
    assert_eq!(
        statuses("/api/v1/notes/{id}", "get"),
        vec![
            "200", "304", "400", "401", "403", "404", "429", "500", "503"
        ]
    );
    let id = &paths["/api/v1/notes/{id}"]["get"]["parameters"][0];
    assert_eq!(id["name"], "id");
    assert_eq!(id["in"], "path");
    assert_eq!(id["schema"]["format"], "uuid");
    // Permission named in the 403.
    assert!(
        paths["/api/v1/stats"]["get"]["responses"]["403"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("stats:read"))
    );
    // 503 documents Retry-After; 401 documents the challenge.
    assert!(paths["/api/v1/me"]["get"]["responses"]["503"]["headers"]["Retry-After"].is_object());
    assert!(
        paths["/api/v1/me"]["get"]["responses"]["401"]["headers"]["WWW-Authenticate"].is_object()
    );
    // Health routes are documented at the root.
    assert!(paths["/health/live"]["get"].is_object());
    assert!(paths["/health/ready"]["get"].is_object());

    // Validator rules are schema constraints.
    let new_note = &doc["components"]["schemas"]["NewNote"];
    assert_eq!(new_note["properties"]["title"]["minLength"], 1);
    assert_eq!(new_note["properties"]["title"]["maxLength"], 200);
    assert_eq!(new_note["properties"]["tags"]["maxItems"], 10);
    assert_eq!(
        new_note["properties"]["tags"]["items"]["properties"]["name"]["maxLength"],
        32
    );
    assert_eq!(new_note["required"], json!(["title"]));
    // Query parameters carry their constraints, pagination is documented.
    let list = &paths["/api/v1/notes"]["get"];
    let params: Vec<&str> = list["parameters"]
        .as_array()
        .map(|p| p.iter().filter_map(|p| p["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(params, vec!["q", "page", "per_page", "If-None-Match"]);
    assert_eq!(list["parameters"][2]["schema"]["maximum"], 100);
    // Lists are wrapped with page meta; the error envelope is one component.
    let list_schema = &list["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(
        list_schema["properties"]["meta"]["$ref"],
        "#/components/schemas/PageMeta"
    );
    assert_eq!(list_schema["properties"]["data"]["type"], "array");
    assert_eq!(
        list["responses"]["400"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorEnvelope"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    // Summaries and descriptions come from doc comments.
    assert_eq!(
        paths["/api/v1/notes/{id}"]["get"]["summary"],
        "One of the caller's notes."
    );
    assert_eq!(
        paths["/api/v1/notes/{id}"]["get"]["operationId"],
        "get_note"
    );
}

#[tokio::test]
async fn the_served_document_is_the_same_document() {
    for backend in BACKENDS {
        the_served_document_is_the_same_document_on(backend).await;
    }
}

async fn the_served_document_is_the_same_document_on(backend: TestBackend) {
    let app = crate::common::taskboard(backend).await;
    let served = app.get("/openapi.json").send().await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.json(), document());
    let docs = app.get("/docs/").send().await;
    assert_eq!(docs.status(), 200);
    assert!(docs.text().contains("swagger"), "Swagger UI page");
}

/// Found missing by schemathesis (its stateful phase follows links): each 201 links to the
/// operations on what it created, with `id` taken from the response body.
#[test]
fn creations_link_to_the_operations_on_what_they_created() {
    let doc = document();
    let links = |path: &str| -> Vec<String> {
        doc["paths"][path]["post"]["responses"]["201"]["links"]
            .as_object()
            .map(|links| links.keys().cloned().collect())
            .unwrap_or_default()
    };
    assert_eq!(
        links("/api/v1/projects"),
        vec![
            "archive_project",
            "create_export",
            "create_task",
            "delete_project",
            "get_project",
            "list_tasks",
            "open_tasks",
            "patch_project",
            "replace_project",
            "set_project_webhook",
            "webhook_secret"
        ]
    );
    assert_eq!(
        links("/api/v1/projects/{id}/tasks"),
        vec!["delete_task", "get_task", "patch_task"]
    );
    let link = &doc["paths"]["/api/v1/projects/{id}/tasks"]["post"]["responses"]["201"]["links"]["get_task"];
    assert_eq!(
        link,
        &json!({"operationId": "get_task", "parameters": {"id": "$response.body#/data/id"}})
    );
}

/// Bounds of every kind, for the constraint test below.
#[derive(Debug, serde::Deserialize, validator::Validate, rampart::Schema)]
#[allow(dead_code)]
struct Bounds {
    #[validate(range(min = 1, max = 5))]
    inclusive: i32,
    #[validate(range(exclusive_min = 0.0, exclusive_max = 1.0))]
    exclusive: f64,
}

/// Takes bounded input.
#[rampart::endpoint(post = "/bounds", public)]
async fn bounded(
    rampart::Json(_input): rampart::Json<Bounds>,
) -> rampart::ApiResult<rampart::NoContent> {
    Ok(rampart::NoContent)
}

#[test]
fn exclusive_bounds_are_documented_as_exclusive() {
    let doc = rampart::Api::new().mount(bounded).openapi_json();
    let bounds = &doc["components"]["schemas"]["Bounds"]["properties"];
    assert_eq!(bounds["inclusive"]["minimum"], 1.0);
    assert_eq!(bounds["inclusive"]["maximum"], 5.0);
    assert!(bounds["inclusive"].get("exclusiveMinimum").is_none());
    // `exclusive_min = 0.0` accepts 0.0001 but not 0.0: exclusiveMinimum, not minimum.
    assert_eq!(bounds["exclusive"]["exclusiveMinimum"], 0.0);
    assert_eq!(bounds["exclusive"]["exclusiveMaximum"], 1.0);
    assert!(bounds["exclusive"].get("minimum").is_none(), "{bounds}");
    assert!(bounds["exclusive"].get("maximum").is_none(), "{bounds}");
}
