use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// How a principal authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthScheme {
    /// `Authorization: Bearer <JWT>`.
    Jwt,
    /// `X-API-Key: <key>`.
    ApiKey,
}

/// The authenticated caller of a request.
///
/// Sealed: its fields are private and only the runtime builds one (from a verified token or
/// API key), so a handler cannot make up a caller, and with it a [`crate::Scope`] or an
/// [`crate::UnscopedAdmin`]. Tests use `rampart::testing::principal_for` (feature `testing`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(description = "The authenticated caller of a request.")]
pub struct Principal {
    /// The user id (the token's `sub`).
    user_id: Uuid,
    /// Roles granted to this principal.
    roles: Vec<String>,
    /// How the principal authenticated.
    scheme: AuthScheme,
}

impl Principal {
    /// A principal the runtime has authenticated. Crate-private: this is the one constructor.
    pub(crate) fn authenticated(user_id: Uuid, roles: Vec<String>, scheme: AuthScheme) -> Self {
        Self {
            user_id,
            roles,
            scheme,
        }
    }

    /// The user id (the token's `sub`, or the API key's owner).
    pub fn user_id(&self) -> Uuid {
        self.user_id
    }

    /// Roles granted to this principal.
    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// How the principal authenticated.
    pub fn scheme(&self) -> AuthScheme {
        self.scheme
    }

    /// Whether the principal holds `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|held| held == role)
    }
}
