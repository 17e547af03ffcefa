//! Stand-ins a macro emits next to its error (fail soft): the rest of the crate keeps
//! type-checking against them, so one mistake is one message. A crate holding a stand-in also
//! holds the macro's `compile_error!`, so none of this is ever built into a program.

use axum::http::Method;
use axum::routing::MethodRouter;

use crate::auth::{Access, Requirement, Schemes};
use crate::endpoint::EndpointDef;
use crate::openapi::OperationDoc;

/// The definition behind an `#[endpoint]` the macro rejected: it implements what
/// `Api::mount` needs, requires a role nobody holds and routes nothing.
pub fn rejected_endpoint(operation_id: &'static str) -> EndpointDef {
    fn document(_doc: &mut OperationDoc) {}
    EndpointDef {
        method: Method::GET,
        path: "/",
        prefixed: true,
        operation_id,
        summary: None,
        description: None,
        tags: &[],
        deprecated: false,
        access: Access::Protected {
            schemes: Schemes::Any,
            requirement: Requirement::AnyRole(&[]),
        },
        body_limit: None,
        timeout: None,
        body_timeout: None,
        rate_limit: None,
        idempotency: None,
        cache: None,
        invalidates: &[],
        errors: &[],
        handler: MethodRouter::new(),
        document,
        deps: &[],
    }
}

/// The body of a stand-in method (a `#[repository]` method whose declaration was rejected):
/// it type-checks as any return type. Never runs: the crate that holds it does not compile.
pub fn rejected<T>() -> T {
    unreachable!("a stand-in for an item a rampart macro rejected; its crate does not compile")
}
