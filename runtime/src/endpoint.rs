//! What `#[endpoint]` registers: a typed description of one operation.

use std::fmt;
use std::time::Duration;

use axum::http::Method;
use axum::routing::MethodRouter;

use crate::auth::Access;
use crate::dependency::{DepKey, DepProbeFn};
use crate::describe::OperationDoc;

/// One endpoint, as declared. Built by the code `#[endpoint]` generates (or by hand for the
/// operational routes); turned into a route and an OpenAPI operation by [`crate::Api`].
pub struct EndpointDef {
    /// HTTP method.
    pub method: Method,
    /// Path template relative to the API prefix (`/notes/{id}`).
    pub path: &'static str,
    /// Whether the API prefix applies (false for `/health/*`).
    pub prefixed: bool,
    /// Unique operation id (default: the fn name).
    pub operation_id: &'static str,
    /// First paragraph of the doc comment.
    pub summary: Option<&'static str>,
    /// The rest of the doc comment.
    pub description: Option<&'static str>,
    /// OpenAPI tags.
    pub tags: &'static [&'static str],
    /// Marked deprecated.
    pub deprecated: bool,
    /// Who may call it.
    pub access: Access,
    /// Body limit in bytes; `None`: the app default.
    pub body_limit: Option<usize>,
    /// Timeout; `None`: the app default.
    pub timeout: Option<Duration>,
    /// Deadline for receiving the whole body; `None`: the app default
    /// (`RAMPART_BODY_READ_TIMEOUT`).
    pub body_timeout: Option<Duration>,
    /// The endpoint's own rate limit.
    pub rate_limit: Option<crate::rate_limit::RateLimitSpec>,
    /// `idempotent`: a repeat with the same `Idempotency-Key` answers the stored response
    /// ([`crate::idempotency`]); `None`: the header is not read.
    pub idempotency: Option<crate::idempotency::Idempotency>,
    /// `cache(..)` on a GET: answers from a stored entry while it is fresh
    /// ([`crate::cache`]); `None`: not cached.
    pub cache: Option<crate::cache::CachePolicy>,
    /// Tags a 2xx or 5xx answer of this endpoint makes stale (`invalidates = [..]`), for
    /// writes that do not go through a resource's store; `&[]` for none.
    pub invalidates: &'static [&'static str],
    /// Extra statuses the handler can return (`errors = [..]`).
    pub errors: &'static [u16],
    /// The axum handler for this method.
    pub handler: MethodRouter,
    /// Fills in the inputs and output for OpenAPI.
    pub document: fn(&mut OperationDoc),
    /// The handler's `Dep<T>` arguments, checked against the app's registrations when the
    /// router is built (`&[]` for a handler that takes none). Read with
    /// [`EndpointDef::dependencies`].
    pub deps: &'static [DepProbeFn],
}

impl EndpointDef {
    /// The dependencies the handler takes (`Dep<T>` arguments).
    pub fn dependencies(&self) -> impl Iterator<Item = DepKey> + '_ {
        self.deps.iter().filter_map(|probe| probe())
    }
}

impl fmt::Debug for EndpointDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointDef")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("operation_id", &self.operation_id)
            .field("access", &self.access)
            .finish_non_exhaustive()
    }
}

/// Implemented by the unit struct `#[endpoint]` puts in place of the fn; mount it with
/// [`crate::Api::mount`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a rampart endpoint",
    note = "mount fns annotated with `#[rampart::endpoint(...)]`"
)]
pub trait Endpoint {
    /// The endpoint's definition.
    fn definition(self) -> EndpointDef;
}

impl Endpoint for EndpointDef {
    fn definition(self) -> EndpointDef {
        self
    }
}
