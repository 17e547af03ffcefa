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
}

impl RbacTable {
    /// A table from `(role, permissions)` pairs; used by the `roles!` expansion.
    pub const fn new(roles: &'static [(&'static str, &'static [&'static str])]) -> Self {
        Self { roles }
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
