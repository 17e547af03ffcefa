//! The vocabulary endpoints, replies and resources describe themselves in for the OpenAPI
//! document: [`OperationDoc`] (an operation's inputs and output), [`SuccessDoc`] (its success
//! response), [`ApiSchema`] and [`object_schema`] (the schemas of field types and structs).
//!
//! A leaf: it names nothing else in the crate, so everything that describes itself (the
//! endpoint definition, the reply types, resources) can depend on it while the document
//! builder (`openapi`) depends on them. Where a description needs a type defined elsewhere,
//! the method lives with that type, as an inherent impl of [`OperationDoc`]: `success::<O>`
//! in `response.rs` and `list::<R>` in `resource/query.rs`. The module is private: these
//! items are public as `rampart::openapi::*`.

mod operation;
mod schema;
mod types;

pub use operation::{OperationDoc, SuccessDoc};
pub use schema::{Constraint, FieldDoc, object_schema};
pub use types::ApiSchema;
pub(crate) use types::TEXT_PATTERN;
