//! Checks of an endpoint's arguments, spanned by `#[endpoint]` at each argument's type, so a
//! `Json<T>` whose `T` lacks a derive is one error naming that derive at `T`, not axum's
//! opaque "`Handler<_, _>` is not satisfied" at the attribute.
//!
//! Each argument gets a status from an autoderef probe: [`Accepted`] when its type is an
//! extractor in its position, [`Refused`] otherwise. The handler is routed through
//! [`RouteProbe`]: with every status `Accepted` it needs `Handler` as before (so any other
//! problem, e.g. a future that is not `Send`, is still an error); with one `Refused` it asks for
//! nothing, because the assertion at that argument reports the one error. Every way an argument
//! can be refused is covered by an assertion the macro emits (specific ones for rampart's
//! `Json`, `Query` and `Path` plus [`assert_known_extractor`] for look-alikes of those names,
//! [`assert_extractor`] for the others), so a refused route never compiles.

use std::marker::PhantomData;

use axum::extract::{FromRequest, FromRequestParts};
use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter};
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::openapi::OperationDoc;

/// The argument's type is an extractor in its position.
#[derive(Debug, Clone, Copy)]
pub struct Accepted;

/// The argument's type is not an extractor in its position.
#[derive(Debug, Clone, Copy)]
pub struct Refused;

impl Accepted {
    /// The status of all arguments so far and `next`: `next`.
    pub fn and<S>(self, next: S) -> S {
        next
    }
}

impl Refused {
    /// Refused whatever `next` is.
    pub fn and<S>(self, _next: S) -> Refused {
        Refused
    }
}

/// Probe for an argument before the last: it must extract from the request's parts.
#[derive(Debug)]
pub struct PartsProbe<T>(PhantomData<fn() -> T>);

/// Probe for the last argument: it may read the body.
#[derive(Debug)]
pub struct LastProbe<T>(PhantomData<fn() -> T>);

impl<T> PartsProbe<T> {
    /// A probe for `T`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T> LastProbe<T> {
    /// A probe for `T`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

/// Picked first (`(&&probe).parts_status()`): `T` extracts from the parts.
pub trait PartsAccepted {
    /// `Accepted`.
    fn parts_status(&self) -> Accepted;
}

impl<T: FromRequestParts<()>> PartsAccepted for &PartsProbe<T> {
    fn parts_status(&self) -> Accepted {
        Accepted
    }
}

/// Picked otherwise.
pub trait PartsRefused {
    /// `Refused`.
    fn parts_status(&self) -> Refused;
}

impl<T> PartsRefused for PartsProbe<T> {
    fn parts_status(&self) -> Refused {
        Refused
    }
}

/// Picked first (`(&&&probe).last_status()`): `T` extracts from the parts.
pub trait LastFromParts {
    /// `Accepted`.
    fn last_status(&self) -> Accepted;
}

impl<T: FromRequestParts<()>> LastFromParts for &&LastProbe<T> {
    fn last_status(&self) -> Accepted {
        Accepted
    }
}

/// Picked second: `T` reads the whole request (a body extractor).
pub trait LastFromRequest {
    /// `Accepted`.
    fn last_status(&self) -> Accepted;
}

impl<T: FromRequest<()>> LastFromRequest for &LastProbe<T> {
    fn last_status(&self) -> Accepted {
        Accepted
    }
}

/// Picked otherwise.
pub trait LastRefused {
    /// `Refused`.
    fn last_status(&self) -> Refused;
}

impl<T> LastRefused for LastProbe<T> {
    fn last_status(&self) -> Refused {
        Refused
    }
}

/// Holds for an [`Accepted`] status; the message names the argument's type `T`.
#[diagnostic::on_unimplemented(
    message = "`{T}` cannot be an argument of an endpoint: it is not an extractor",
    label = "not an extractor",
    note = "an argument implements axum's `FromRequestParts` (`Ctx`, `Path<T>`, `Query<T>`, `Page`, a repository, ...); only the last one may read the body (`FromRequest`, e.g. `Json<T>`)"
)]
pub trait ExtractorAccepted<T> {}

impl<T> ExtractorAccepted<T> for Accepted {}
// `Dep<T>` is refused only when `T` is not a `Dependency`; `#[endpoint]` probes every argument
// for `Dep` (`macros/src/endpoint/deps.rs`), and that probe reports it at `T`.
impl<T> ExtractorAccepted<crate::dependency::Dep<T>> for Refused {}

/// Asserts that an argument of type `T` is an extractor in its position.
pub fn assert_extractor<T, S: ExtractorAccepted<T>>(_status: &S) {}

/// [`ExtractorAccepted`] for the arguments the macro recognises by name (`Json`, `Query`,
/// `Path`, `ListQuery`): rampart's own type may be refused, because the specific assertions
/// at its inner type (or documenting `ListQuery`'s resource) report why; any other type of that
/// name must be accepted, so a look-alike that is not an extractor is still an error.
#[diagnostic::on_unimplemented(
    message = "`{T}` cannot be an argument of an endpoint: it is not an extractor",
    label = "not an extractor",
    note = "an argument implements axum's `FromRequestParts` (`Ctx`, `Path<T>`, `Query<T>`, `Page`, a repository, ...); only the last one may read the body (`FromRequest`, e.g. `Json<T>`)"
)]
pub trait KnownExtractorAccepted<T> {}

impl<T> KnownExtractorAccepted<T> for Accepted {}
impl<T> KnownExtractorAccepted<crate::Json<T>> for Refused {}
impl<T> KnownExtractorAccepted<crate::Query<T>> for Refused {}
impl<T> KnownExtractorAccepted<crate::Path<T>> for Refused {}
impl<R> KnownExtractorAccepted<crate::ListQuery<R>> for Refused {}

/// Asserts that an argument of a recognised type is an extractor, or rampart's own.
pub fn assert_known_extractor<T, S: KnownExtractorAccepted<T>>(_status: &S) {}

/// `Json<T>` needs `T: Deserialize`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a JSON body: it does not implement `Deserialize`",
    label = "`Json<{Self}>` deserializes the body into `{Self}`",
    note = "add `#[derive(serde::Deserialize)]` to `{Self}`"
)]
pub trait JsonDeserialize {}

impl<T: DeserializeOwned> JsonDeserialize for T {}

/// `Json<T>` needs `T: Validate`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a JSON body: it does not implement `Validate`",
    label = "`Json<{Self}>` validates the body before the handler runs",
    note = "add `#[derive(validator::Validate)]` to `{Self}` (without `#[validate]` rules it accepts every value)"
)]
pub trait JsonValidate {}

impl<T: Validate> JsonValidate for T {}

/// `Json<T>` needs a schema for the OpenAPI document.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a JSON body: it has no rampart schema",
    label = "`Json<{Self}>` describes the body in the OpenAPI document",
    note = "add `#[derive(rampart::Schema)]` to `{Self}`"
)]
pub trait JsonSchema {}

impl<T: utoipa::ToSchema> JsonSchema for T {}

/// `Query<T>` needs `T: Deserialize`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a query string: it does not implement `Deserialize`",
    label = "`Query<{Self}>` deserializes the query string into `{Self}`",
    note = "add `#[derive(serde::Deserialize)]` to `{Self}`"
)]
pub trait QueryDeserialize {}

impl<T: DeserializeOwned> QueryDeserialize for T {}

/// `Query<T>` needs `T: Validate`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a query string: it does not implement `Validate`",
    label = "`Query<{Self}>` validates the query before the handler runs",
    note = "add `#[derive(validator::Validate)]` to `{Self}` (without `#[validate]` rules it accepts every value)"
)]
pub trait QueryValidate {}

impl<T: Validate> QueryValidate for T {}

/// `Path<T>` needs `T: Deserialize + Send`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold path parameters: it does not implement `Deserialize`",
    label = "`Path<{Self}>` deserializes the path parameters into `{Self}`",
    note = "use `Uuid`, a number, `String`, a tuple of them, or a struct with `#[derive(serde::Deserialize)]`"
)]
pub trait PathDeserialize {}

impl<T: DeserializeOwned + Send> PathDeserialize for T {}

/// Asserts `T: JsonDeserialize`.
pub fn assert_json_deserialize<T: JsonDeserialize>() {}
/// Asserts `T: JsonValidate`.
pub fn assert_json_validate<T: JsonValidate>() {}
/// Asserts `T: JsonSchema`.
pub fn assert_json_schema<T: JsonSchema>() {}
/// Asserts `T: QueryDeserialize`.
pub fn assert_query_deserialize<T: QueryDeserialize>() {}
/// Asserts `T: QueryValidate`.
pub fn assert_query_validate<T: QueryValidate>() {}
/// Asserts `T: PathDeserialize`.
pub fn assert_path_deserialize<T: PathDeserialize>() {}

/// Routes the handler according to the arguments' status (see the module docs).
#[derive(Debug)]
pub struct RouteProbe<S>(PhantomData<S>);

impl<S> RouteProbe<S> {
    /// A probe for the combined status of the arguments.
    pub fn of(_status: S) -> Self {
        Self(PhantomData)
    }
}

/// Picked when every argument is accepted: the handler must be a `Handler`.
pub trait RouteAccepted {
    /// `axum::routing::on(filter, handler)`.
    fn route<H: Handler<T, ()>, T: 'static>(
        &self,
        filter: MethodFilter,
        handler: H,
    ) -> MethodRouter;
}

impl RouteAccepted for &RouteProbe<Accepted> {
    fn route<H: Handler<T, ()>, T: 'static>(
        &self,
        filter: MethodFilter,
        handler: H,
    ) -> MethodRouter {
        axum::routing::on(filter, handler)
    }
}

/// Picked when an argument is refused: its assertion is the error, so this asks for nothing
/// (the crate does not compile, so the empty router is never served).
pub trait RouteRefused {
    /// An empty router.
    fn route<H>(&self, filter: MethodFilter, handler: H) -> MethodRouter;
}

impl<S> RouteRefused for &&RouteProbe<S> {
    fn route<H>(&self, _filter: MethodFilter, _handler: H) -> MethodRouter {
        MethodRouter::new()
    }
}

/// Documents a JSON body when its type has a schema; otherwise [`assert_json_schema`] at the
/// body's type is the one error.
#[derive(Debug)]
pub struct BodyDocProbe<T>(PhantomData<fn() -> T>);

impl<T> BodyDocProbe<T> {
    /// A probe for `T`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

/// Picked when the body has a schema.
pub trait DocumentBody {
    /// Records the body.
    fn document_body(&self, doc: &mut OperationDoc);
}

impl<T: utoipa::ToSchema> DocumentBody for &BodyDocProbe<T> {
    fn document_body(&self, doc: &mut OperationDoc) {
        doc.body::<T>();
    }
}

/// Picked otherwise.
pub trait DocumentBodyFallback {
    /// Does nothing.
    fn document_body(&self, doc: &mut OperationDoc);
}

impl<T> DocumentBodyFallback for &&BodyDocProbe<T> {
    fn document_body(&self, _doc: &mut OperationDoc) {}
}
