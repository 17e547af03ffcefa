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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Principal {
    /// The user id (the token's `sub`).
    pub user_id: Uuid,
    /// Roles granted to this principal.
    pub roles: Vec<String>,
    /// How the principal authenticated.
    pub scheme: AuthScheme,
    /// The API key that authenticated (absent for a JWT); rate limits count per key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_id: Option<Uuid>,
}

impl Principal {
    /// The id of the API key that authenticated this request, if a key did.
    pub fn api_key_id(&self) -> Option<Uuid> {
        self.api_key_id
    }

    /// Whether the principal holds `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|held| held == role)
    }
}
