//! The OpenAPI 3.1 document, built at runtime from the mounted endpoints.
//!
//! The macro only records what the declaration says (an [`OperationDoc`] via the endpoint's
//! `document` fn, in the vocabulary of `crate::describe`, re-exported here); everything here
//! is plain typed code that unit tests reach without a compiler. Error responses are derived
//! from the same declaration that drives the layers.
//!
//! - `document`: [`build_document`], the document of the endpoint definitions;
//! - `responses`: each operation's responses, with the one table of error statuses;
//! - `links`: links from a 201 to the operations on what it created;
//! - `fixups`: [`to_json`], corrections to the JSON utoipa serializes.

mod document;
mod fixups;
mod links;
mod responses;

pub use crate::describe::{
    ApiSchema, Constraint, FieldDoc, OperationDoc, SuccessDoc, object_schema,
};
pub use document::{ApiInfo, build_document};
pub use fixups::to_json;
pub use responses::error_statuses;

/// Name of the error envelope component.
pub const ERROR_ENVELOPE: &str = "ErrorEnvelope";
/// Name of the API-key security scheme.
pub const API_KEY_AUTH: &str = "apiKeyAuth";
/// Name of the bearer security scheme.
pub const BEARER_AUTH: &str = "bearerAuth";
