//! Items only the macro expansions use (re-exported through `rampart::__private`).

pub mod extractors;
pub mod fallback;
pub mod jobs;
pub mod query_cache;

use std::marker::PhantomData;

use axum::response::Response;

use crate::describe::OperationDoc;
use crate::response::EndpointOutput;

/// Renders an endpoint's result. Generic so that a return type that is not a response is one
/// error here, spanned at the return type, carrying `EndpointOutput`'s note.
pub fn respond<O: EndpointOutput>(output: O) -> Response {
    output.into_api_response()
}

/// Autoref probe over an endpoint's return type (see [`DescribeOutput`]).
#[derive(Debug)]
pub struct OutputProbe<T>(PhantomData<fn() -> T>);

impl<T> OutputProbe<T> {
    /// A probe for `T`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

/// Picked when the return type is a response: documents its success response.
pub trait DescribeOutput {
    /// Records the success response.
    fn describe_output(&self, doc: &mut OperationDoc);
}

impl<T: EndpointOutput> DescribeOutput for &OutputProbe<T> {
    fn describe_output(&self, doc: &mut OperationDoc) {
        doc.success::<T>();
    }
}

/// Picked otherwise, so the documentation path adds no second error to `respond`'s.
pub trait DescribeFallback {
    /// Does nothing.
    fn describe_output(&self, doc: &mut OperationDoc);
}

impl<T> DescribeFallback for &&OutputProbe<T> {
    fn describe_output(&self, _doc: &mut OperationDoc) {}
}

/// The scope of a `public` read that `#[resource(endpoints(..., public))]` generates: the
/// caller's own when the request carries credentials; for an anonymous caller, a scope that
/// owns nothing. Only for resources without an owner, whose statements bind no owner (the
/// macro refuses `public` on owned ones); should it ever be reached for an owned resource, or
/// one under an owned parent, the anonymous caller gets the 401 it gets today.
pub fn public_scope<R: crate::resource::Resource>(
    ctx: &crate::Ctx,
) -> Result<crate::resource::Scope, crate::ApiError> {
    if let Some(principal) = ctx.principal() {
        return Ok(crate::resource::Scope::of(principal));
    }
    let parent_owned = R::SPEC.parent.is_some_and(|parent| parent.owner.is_some());
    if R::SPEC.owner.is_some() || parent_owned {
        return Err(crate::ApiError::unauthenticated());
    }
    Ok(crate::resource::Scope::owned_by(uuid::Uuid::nil()))
}

/// Whether `module_path!()` names a crate root (`app`, not `app::routes`): `roles!` asserts it,
/// because endpoints look the table up at `crate::`.
pub const fn is_crate_root(module_path: &str) -> bool {
    let bytes = module_path.as_bytes();
    let mut index = 0;
    while index + 1 < bytes.len() {
        if bytes[index] == b':' && bytes[index + 1] == b':' {
            return false;
        }
        index += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::is_crate_root;

    #[test]
    fn crate_roots() {
        assert!(is_crate_root("app"));
        assert!(!is_crate_root("app::routes"));
    }
}
