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
    /// The API key that authenticated (absent for a JWT); rate limits count per key.
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key_id: Option<Uuid>,
}

impl Principal {
    /// A principal the runtime has authenticated. Crate-private: this is the one constructor.
    pub(crate) fn authenticated(user_id: Uuid, roles: Vec<String>, scheme: AuthScheme) -> Self {
        Self {
            user_id,
            roles,
            scheme,
            api_key_id: None,
        }
    }

    /// The same principal, authenticated by the API key `id`.
    pub(crate) fn with_api_key(mut self, id: Uuid) -> Self {
        self.api_key_id = Some(id);
        self
    }

    /// The id of the API key that authenticated this request, if a key did.
    pub fn api_key_id(&self) -> Option<Uuid> {
        self.api_key_id
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
