//! Authentication (who is calling) and authorization (may they), layers 6 and 7.

mod access;
mod jwt;
mod principal;
mod rbac;

pub use access::{API_KEY_HEADER, Access, AccessLayer, AuthenticatedUser, Requirement, Schemes};
pub use jwt::{Claims, JwtAlgorithm, JwtConfig, JwtError, JwtKeys, KeyPem};
pub use principal::{AuthScheme, Principal};
pub use rbac::{ADMIN_ROLE, RbacTable, Roles};
