//! Corrections to the JSON utoipa serializes, where it departs from OpenAPI 3.1.

use serde_json::{Map, Value};
use utoipa::openapi::OpenApi;

/// The document as JSON. utoipa 5.5 serializes the Link Object's fields in snake case
/// (`operation_id`), which OpenAPI does not know; this renames them (`operationId`,
/// `operationRef`, `requestBody`) in every response's `links`, and touches nothing else.
pub fn to_json(document: &OpenApi) -> Value {
    let mut json = serde_json::to_value(document).unwrap_or_default();
    let Some(paths) = json.get_mut("paths").and_then(Value::as_object_mut) else {
        return json;
    };
    let responses = paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|path| path.values_mut())
        .filter_map(|operation| operation.get_mut("responses"))
        .filter_map(Value::as_object_mut)
        .flat_map(|responses| responses.values_mut());
    for response in responses {
        let Some(links) = response.get_mut("links").and_then(Value::as_object_mut) else {
            continue;
        };
        for link in links.values_mut().filter_map(Value::as_object_mut) {
            camel_case_link(link);
        }
    }
    json
}

fn camel_case_link(link: &mut Map<String, Value>) {
    for (snake, camel) in [
        ("operation_id", "operationId"),
        ("operation_ref", "operationRef"),
        ("request_body", "requestBody"),
    ] {
        if let Some(value) = link.remove(snake) {
            link.insert(camel.to_owned(), value);
        }
    }
}
