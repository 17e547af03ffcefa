//! Authentication (who is calling) and authorization (may they): what endpoints declare, the
//! JWT keys, principals and the RBAC table. The pipeline module applies them.

mod access;
mod jwt;
mod principal;
mod rbac;

pub(crate) use access::API_KEY_HEADER_NAME;
pub use access::{
    API_KEY_HEADER, Access, ApiKeyOutcome, ApiKeyVerifier, AuthenticatedUser, Requirement, Schemes,
};
pub use jwt::{Claims, JwtAlgorithm, JwtConfig, JwtError, JwtKeys, KeyPem};
pub use principal::{AuthScheme, Principal};
pub use rbac::{ADMIN_ROLE, RbacTable, Roles};
