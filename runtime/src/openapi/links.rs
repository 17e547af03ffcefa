//! OpenAPI links from a 201 to the operations on what it created.

use utoipa::openapi::RefOr;
use utoipa::openapi::link::{Link, LinkBuilder};

use crate::describe::OperationDoc;
use crate::endpoint::EndpointDef;

/// The data schema of a success response, as a component reference (`#/components/schemas/Task`).
fn data_ref(doc: &OperationDoc) -> Option<&str> {
    match &doc.success.data {
        Some(RefOr::Ref(reference)) if !doc.success.paginated => Some(&reference.ref_location),
        _ => None,
    }
}

/// Links from the 201 of `endpoints[created]`, so that clients and tools (schemathesis's
/// stateful phase) can follow them: the created item's path is the path of an operation that
/// takes one `{id}` and answers with the same schema (`GET /tasks/{id}` for a `Task`), and
/// every operation on that path or under it gets `id = $response.body#/data/id`.
pub(super) fn creation_links(
    created: usize,
    endpoints: &[(String, &EndpointDef)],
    docs: &[OperationDoc],
) -> Vec<(String, Link)> {
    let Some(schema) = docs.get(created).and_then(data_ref) else {
        return Vec::new();
    };
    let takes_one_id = |doc: &OperationDoc| {
        doc.path_params.len() == 1
            && doc
                .path_params
                .first()
                .is_some_and(|(name, _)| name == "id")
    };
    let item_paths: Vec<&str> = endpoints
        .iter()
        .zip(docs)
        .filter(|((path, _), doc)| {
            path.ends_with("/{id}") && takes_one_id(doc) && data_ref(doc) == Some(schema)
        })
        .map(|((path, _), _)| path.as_str())
        .collect();
    endpoints
        .iter()
        .zip(docs)
        .filter(|((path, _), doc)| {
            takes_one_id(doc)
                && item_paths.iter().any(|item| {
                    path == item
                        || path
                            .strip_prefix(item)
                            .is_some_and(|rest| rest.starts_with('/'))
                })
        })
        .map(|((_, def), _)| {
            let link = LinkBuilder::new()
                .operation_id(def.operation_id)
                .parameter("id", "$response.body#/data/id")
                .build();
            (def.operation_id.to_owned(), link)
        })
        .collect()
}
