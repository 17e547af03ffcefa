use super::Principal;

/// The role every RBAC table has; it holds every permission (see `roles!`).
pub const ADMIN_ROLE: &str = "admin";

/// An application's roles and the permissions each grants, declared once with `roles!`.
///
/// `admin` is always present and holds every permission. Role requirements are exact: an
/// endpoint that requires `member` accepts principals holding `member`, and admins only if
/// they hold `member` too (least privilege; give admins both roles when that is intended).
#[derive(Debug)]
pub struct RbacTable {
    roles: &'static [(&'static str, &'static [&'static str])],
    registration: &'static [&'static str],
}

impl RbacTable {
    /// A table from `(role, permissions)` pairs; used by the `roles!` expansion.
    pub const fn new(roles: &'static [(&'static str, &'static [&'static str])]) -> Self {
        Self {
            roles,
            registration: &[],
        }
    }

    /// The same table where registration grants `roles` (the roles marked
    /// `#[registration]` in `roles!`, which checks that they are declared and not `admin`).
    pub const fn with_registration(self, roles: &'static [&'static str]) -> Self {
        Self {
            roles: self.roles,
            registration: roles,
        }
    }

    /// The roles a newly registered account gets.
    pub fn registration_roles(&self) -> &'static [&'static str] {
        self.registration
    }

    /// Whether `name` is a declared role (`admin` included).
    pub fn is_role(&self, name: &str) -> bool {
        self.roles.iter().any(|(role, _)| *role == name)
    }

    /// Whether any of the principal's roles grants `permission`.
    pub fn grants(&self, principal: &Principal, permission: &str) -> bool {
        principal.roles().iter().any(|role| {
            role == ADMIN_ROLE
                || self
                    .roles
                    .iter()
                    .any(|(name, permissions)| name == role && permissions.contains(&permission))
        })
    }

    /// The declared roles, `admin` included.
    pub fn roles(&self) -> impl Iterator<Item = &'static str> {
        self.roles.iter().map(|(name, _)| *name)
    }
}

/// Extractor: the app's RBAC table, as given to [`crate::Api::roles`]. Missing (an `Api`
/// built without it) is a 500 naming the fix, never a silent "no roles".
#[derive(Debug, Clone, Copy)]
pub struct Roles(pub &'static RbacTable);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Roles {
    type Rejection = crate::error::ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        crate::context::shared::<Roles>(&parts.extensions)
            .copied()
            .ok_or_else(|| {
                crate::error::ApiError::internal(
                    "the RBAC table is missing: call Api::roles(rampart::rbac!())",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AuthScheme;

    static TABLE: RbacTable = RbacTable::new(&[
        ("member", &["notes:read", "notes:write"]),
        ("viewer", &["notes:read"]),
        ("admin", &[]),
    ]);

    fn principal(roles: &[&str]) -> Principal {
        Principal::authenticated(
            uuid::Uuid::nil(),
            roles.iter().map(|r| r.to_string()).collect(),
            AuthScheme::Jwt,
        )
    }

    #[test]
    fn permissions_follow_roles_and_admin_holds_all() {
        assert!(TABLE.grants(&principal(&["member"]), "notes:write"));
        assert!(!TABLE.grants(&principal(&["viewer"]), "notes:write"));
        assert!(TABLE.grants(&principal(&["viewer", "member"]), "notes:write"));
        assert!(TABLE.grants(&principal(&["admin"]), "anything:at_all"));
        assert!(!TABLE.grants(&principal(&[]), "notes:read"));
        assert!(!TABLE.grants(&principal(&["unknown"]), "notes:read"));
    }
}
