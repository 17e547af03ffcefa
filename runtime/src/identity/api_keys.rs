//! API keys for service-to-service calls: `rk_` + 256 random bits (base64url), shown once at
//! creation, stored as a SHA-256 hash next to a lookup prefix, accepted only in `X-API-Key`.
//! A key acts as its owner with the owner's current roles, narrowed to the key's declared
//! subset; revoking the key, or disabling its owner, stops it at the next request.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::store::{self, fetch};
use crate::auth::{AuthScheme, Principal};
use crate::db::statement::Affected;
use crate::db::{Db, Kind, Target, Value};
use crate::error::{ApiError, ErrorCode};

/// Characters of the secret used to find a key (not secret enough to authenticate alone).
const LOOKUP_CHARS: usize = 12;
/// `last_used_at` is written at most this often per key (a write per request would not scale).
const LAST_USED_RESOLUTION_SECONDS: i64 = 60;

/// A key as listed: never the secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyInfo {
    /// Id.
    pub id: Uuid,
    /// Name given at creation.
    pub name: String,
    /// The key's first characters, to recognise it.
    pub prefix: String,
    /// Roles the key is limited to; `null`: the owner's roles.
    pub roles: Option<Vec<String>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last authenticated use (minute resolution).
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The caller's keys.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyList {
    /// Live keys, oldest first; never their secrets.
    pub keys: Vec<ApiKeyInfo>,
}

/// A freshly created key: the only time the secret is shown.
// In the response only: `Debug` shows the listing (the doc comment above is the schema's text).
#[derive(Clone, Serialize, ToSchema)]
pub struct CreatedApiKey {
    /// The key itself; store it now, it cannot be shown again.
    pub key: String,
    /// Its listing.
    pub info: ApiKeyInfo,
}

impl std::fmt::Debug for CreatedApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedApiKey")
            .field("key", &"[redacted]")
            .field("info", &self.info)
            .finish()
    }
}

fn hash(key: &str) -> Vec<u8> {
    Sha256::digest(key.as_bytes()).to_vec()
}

fn lookup_of(key: &str) -> Option<&str> {
    key.strip_prefix("rk_")
        .and_then(|secret| secret.get(..LOOKUP_CHARS))
}

/// Whether two secrets are equal, in time independent of their contents and lengths (their
/// SHA-256 digests are compared in constant time).
pub(crate) fn digests_equal(presented: &str, expected: &str) -> bool {
    constant_time_eq(&hash(presented), &hash(expected))
}

/// Equal in time independent of where the bytes differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn roles_text(roles: &Option<Vec<String>>) -> Option<String> {
    roles.as_ref().map(|r| r.join(" "))
}

/// Creates a key for `owner`, limited to `roles` (which must be roles the owner holds).
pub async fn create(
    db: &Db,
    owner: &Principal,
    name: &str,
    roles: Option<Vec<String>>,
) -> Result<CreatedApiKey, ApiError> {
    if let Some(requested) = &roles
        && let Some(extra) = requested.iter().find(|r| !owner.has_role(r))
    {
        return Err(ApiError::new(ErrorCode::Forbidden)
            .with_message("a key cannot hold a role its owner does not have")
            .with_detail("roles", format!("not held: {extra}")));
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| ApiError::internal(e.to_string()))?;
    let key = format!(
        "rk_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    );
    let lookup = lookup_of(&key).unwrap_or_default().to_owned();
    let info = ApiKeyInfo {
        id: Uuid::now_v7(),
        name: name.trim().to_owned(),
        prefix: format!("rk_{lookup}"),
        roles,
        // As stored (microseconds): the response shows what a later list shows.
        created_at: crate::db::now(),
        last_used_at: None,
    };
    let sql = "INSERT INTO rampart_api_keys (id, user_id, name, lookup, key_hash, roles, created_at, revoked) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE)";
    let values = vec![
        Value::Uuid(info.id),
        Value::Uuid(owner.user_id()),
        Value::Text(info.name.clone()),
        Value::Text(lookup),
        Value::Bytes(hash(&key)),
        roles_text(&info.roles).map_or(Value::Null(Kind::Text), Value::Text),
        Value::Timestamp(info.created_at),
    ];
    fetch::<Affected>(db, "identity.create_api_key", Target::Write, sql, values).await?;
    metrics::counter!("auth_api_keys_created_total").increment(1);
    tracing::info!(event = "api_key_created", actor = %owner.user_id(), subject = %info.id, "audit");
    Ok(CreatedApiKey { key, info })
}

type KeyTuple = (
    Uuid,
    String,
    String,
    Option<String>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

/// The owner's live keys.
pub async fn list(db: &Db, owner: Uuid) -> Result<Vec<ApiKeyInfo>, ApiError> {
    let sql = "SELECT id, name, lookup, roles, created_at, last_used_at FROM rampart_api_keys \
               WHERE user_id = $1 AND revoked = FALSE ORDER BY created_at";
    let owner = vec![Value::Uuid(owner)];
    let rows: Vec<KeyTuple> = fetch(db, "identity.list_api_keys", Target::Read, sql, owner).await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, name, lookup, roles, created_at, last_used_at)| ApiKeyInfo {
                id,
                name,
                prefix: format!("rk_{lookup}"),
                roles: roles.map(|r| r.split_whitespace().map(str::to_owned).collect()),
                created_at,
                last_used_at,
            },
        )
        .collect())
}

/// Revokes one of the owner's keys; another user's key is the same 404 as a missing one.
pub async fn revoke(db: &Db, owner: Uuid, id: Uuid) -> Result<(), ApiError> {
    let sql = "UPDATE rampart_api_keys SET revoked = TRUE WHERE id = $1 AND user_id = $2 AND revoked = FALSE";
    let values = vec![Value::Uuid(id), Value::Uuid(owner)];
    let Affected(revoked) =
        fetch(db, "identity.revoke_api_key", Target::Write, sql, values).await?;
    if revoked == 0 {
        return Err(ApiError::not_found());
    }
    metrics::counter!("auth_api_keys_revoked_total").increment(1);
    tracing::info!(event = "api_key_revoked", actor = %owner, subject = %id, "audit");
    Ok(())
}

/// Revokes every key of a user (disable).
pub async fn revoke_all(db: &Db, owner: Uuid) -> Result<u64, ApiError> {
    let sql = "UPDATE rampart_api_keys SET revoked = TRUE WHERE user_id = $1 AND revoked = FALSE";
    store::update_by_id(db, "identity.revoke_all_api_keys", sql, owner).await
}

type AuthTuple = (
    Uuid,
    Uuid,
    Vec<u8>,
    Option<String>,
    Option<DateTime<Utc>>,
    bool,
);

/// Authenticates an `X-API-Key` value: `None` for anything that is not a live key of an
/// enabled user.
pub async fn authenticate(db: &Db, key: &str) -> Result<Option<Principal>, ApiError> {
    let Some(lookup) = lookup_of(key) else {
        return Ok(None);
    };
    let sql = "SELECT id, user_id, key_hash, roles, last_used_at, revoked FROM rampart_api_keys WHERE lookup = $1";
    let lookup = vec![Value::Text(lookup.to_owned())];
    let row: Option<AuthTuple> =
        fetch(db, "identity.api_key_by_lookup", Target::Write, sql, lookup).await?;
    let Some((id, user_id, key_hash, key_roles, last_used_at, revoked)) = row else {
        return Ok(None);
    };
    if revoked || !constant_time_eq(&key_hash, &hash(key)) {
        return Ok(None);
    }
    let Some(owner) = store::user_by_id(db, user_id)
        .await?
        .filter(|u| !u.disabled)
    else {
        return Ok(None);
    };
    let roles = match key_roles {
        Some(subset) => subset
            .split_whitespace()
            .filter(|r| owner.roles.iter().any(|o| o == r))
            .map(str::to_owned)
            .collect(),
        None => owner.roles,
    };
    let now = crate::db::now();
    if last_used_at.is_none_or(|last| (now - last).num_seconds() >= LAST_USED_RESOLUTION_SECONDS) {
        let sql = "UPDATE rampart_api_keys SET last_used_at = $1 WHERE id = $2";
        let values = vec![Value::Timestamp(now), Value::Uuid(id)];
        fetch::<Affected>(db, "identity.touch_api_key", Target::Write, sql, values).await?;
    }
    Ok(Some(
        Principal::authenticated(user_id, roles, AuthScheme::ApiKey).with_api_key(id),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_holds_no_credential() {
        let created = CreatedApiKey {
            key: "rk_abcdefghijkl_secret-part".to_owned(),
            info: ApiKeyInfo {
                id: Uuid::nil(),
                name: "ci".to_owned(),
                prefix: "rk_abcdefghijkl".to_owned(),
                roles: None,
                created_at: Utc::now(),
                last_used_at: None,
            },
        };
        let pair = crate::identity::TokenPair {
            access_token: "eyJ-access-secret".to_owned(),
            refresh_token: "refresh-secret".to_owned(),
            token_type: "Bearer",
            expires_in: 900,
        };
        let user = crate::identity::store::UserRow {
            id: Uuid::nil(),
            email: "ada@example.com".to_owned(),
            password_hash: "$argon2id$v=19$hash-secret".to_owned(),
            display_name: "Ada".to_owned(),
            roles: Vec::new(),
            disabled: false,
            created_at: Utc::now(),
        };
        let debug = format!("{created:?} {pair:?} {user:?}");
        for secret in [
            "secret-part",
            "access-secret",
            "refresh-secret",
            "hash-secret",
        ] {
            assert!(!debug.contains(secret), "`{secret}` in {debug}");
        }
        assert!(debug.contains("rk_abcdefghijkl") && debug.contains("ada@example.com"));
    }

    #[test]
    fn lookup_and_comparison() {
        assert_eq!(lookup_of("rk_abcdefghijklmnop"), Some("abcdefghijkl"));
        assert_eq!(lookup_of("rk_short"), None);
        assert_eq!(lookup_of("xx_abcdefghijklmnop"), None);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
