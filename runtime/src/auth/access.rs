//! What an endpoint declares about access (schemes, requirement), and the seam through which
//! API keys are verified. Applying them to a request is the pipeline's work
//! (the `pipeline` module, after the timeout).

use std::future::Future;
use std::pin::Pin;

use uuid::Uuid;

use super::{Principal, RbacTable};
use crate::error::ApiError;

/// Which credentials an endpoint accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schemes {
    /// Every scheme the app supports.
    Any,
    /// `Authorization: Bearer <JWT>` only.
    Jwt,
    /// `X-API-Key: <key>` only.
    ApiKey,
}

impl Schemes {
    pub(crate) fn accepts_jwt(self) -> bool {
        matches!(self, Schemes::Any | Schemes::Jwt)
    }
    pub(crate) fn accepts_api_key(self) -> bool {
        matches!(self, Schemes::Any | Schemes::ApiKey)
    }
}

/// The `X-API-Key` header.
pub const API_KEY_HEADER: &str = "x-api-key";

/// The `X-API-Key` header as a name (a `&str` name is parsed on every lookup).
pub(crate) const API_KEY_HEADER_NAME: axum::http::HeaderName =
    axum::http::HeaderName::from_static(API_KEY_HEADER);

/// What an authenticated principal must hold.
#[derive(Debug, Clone, Copy)]
pub enum Requirement {
    /// Being authenticated is enough.
    Authenticated,
    /// Any one of these roles.
    AnyRole(&'static [&'static str]),
    /// This permission, granted through the app's RBAC table.
    Permission(&'static str, &'static RbacTable),
}

/// The access rule of an endpoint, derived from its `#[endpoint]` declaration.
#[derive(Debug, Clone, Copy)]
pub enum Access {
    /// No credentials needed; a valid token still yields a principal.
    Public,
    /// Credentials required (the default).
    Protected {
        /// Accepted schemes.
        schemes: Schemes,
        /// What the principal must hold.
        requirement: Requirement,
    },
}

impl Access {
    /// Whether the endpoint needs credentials.
    pub fn is_protected(&self) -> bool {
        matches!(self, Access::Protected { .. })
    }
}

/// Names the user in the access log when a handler puts it on its response (the pipeline
/// records the authenticated user in the request context by itself).
#[derive(Debug, Clone, Copy)]
pub struct AuthenticatedUser(pub Uuid);

/// What verifying an API key yields: the principal of a live key of an enabled user, `None`
/// for anything else, or the error that prevented the check.
pub type ApiKeyOutcome<'a> =
    Pin<Box<dyn Future<Output = Result<Option<Principal>, ApiError>> + Send + 'a>>;

/// Verifies `X-API-Key` values. The pipeline asks it and knows nothing of where keys are
/// stored; identity implements it over its tables, and the router is handed it.
pub trait ApiKeyVerifier: Send + Sync + 'static {
    /// Verifies one presented key.
    fn verify<'a>(&'a self, key: &'a str) -> ApiKeyOutcome<'a>;
}
