//! Identity: accounts, passwords, access tokens and rotating refresh tokens, on the app's own
//! database (SQLite or PostgreSQL). The HTTP endpoints over these flows live in the facade
//! (`rampart::identity`), written with `#[endpoint]` like any app's.
//!
//! Refresh tokens are opaque (`rt_` + 256 random bits, base64url), stored only as SHA-256
//! hashes, grouped in families (one per login). Each use rotates: the presented token is
//! claimed atomically and a new one issued in its family. Presenting a claimed token again is
//! reuse: the whole family is revoked, the newest token included. Families expire when idle
//! (`RAMPART_REFRESH_IDLE`, 7 days) and absolutely (`RAMPART_REFRESH_ABSOLUTE`, 30 days).

pub mod api_keys;
pub mod password;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use chrono::Utc;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::auth::{ADMIN_ROLE, JwtKeys, RbacTable};
use crate::db::{Db, Migrations};
use crate::error::{ApiError, ErrorCode};
use crate::rate_limit::Throttle;
use store::{RefreshRow, UserRow};

/// API keys verified against identity's tables: the [`crate::auth::ApiKeyVerifier`] the router
/// is handed (the pipeline asks it; it does not reach into identity).
#[derive(Debug, Clone)]
pub struct StoredApiKeys(Db);

impl StoredApiKeys {
    /// Keys stored in `db`.
    pub fn new(db: Db) -> Self {
        Self(db)
    }
}

impl crate::auth::ApiKeyVerifier for StoredApiKeys {
    fn verify<'a>(&'a self, key: &'a str) -> crate::auth::ApiKeyOutcome<'a> {
        Box::pin(api_keys::authenticate(&self.0, key))
    }
}

/// The identity tables, applied with their own migration history
/// (`_rampart_identity_migrations`) so they never collide with an app's versions.
pub const MIGRATIONS: Migrations = Migrations {
    sqlite: &[
        (
            1,
            "identity",
            include_str!("migrations/0001_identity.sqlite.sql"),
        ),
        (
            2,
            "api keys",
            include_str!("migrations/0002_api_keys.sqlite.sql"),
        ),
    ],
    postgres: &[
        (
            1,
            "identity",
            include_str!("migrations/0001_identity.postgres.sql"),
        ),
        (
            2,
            "api keys",
            include_str!("migrations/0002_api_keys.postgres.sql"),
        ),
    ],
};

/// The migration table of the identity tables.
pub const MIGRATION_TABLE: &str = "_rampart_identity_migrations";

/// Creates or updates the identity tables.
pub async fn migrate(db: &Db) -> Result<(), crate::db::DbError> {
    db.migrate_into(&MIGRATIONS, MIGRATION_TABLE).await
}

/// A user as the API shows it: never the password hash.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    /// Id.
    pub id: Uuid,
    /// Email (trimmed, NFKC, IDNA A-label domain, lowercased).
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Roles.
    pub roles: Vec<String>,
    /// Creation time.
    pub created_at: chrono::DateTime<Utc>,
}

impl From<&UserRow> for User {
    fn from(row: &UserRow) -> Self {
        Self {
            id: row.id,
            email: row.email.clone(),
            display_name: row.display_name.clone(),
            roles: row.roles.clone(),
            created_at: row.created_at,
        }
    }
}

/// An access token and its refresh token.
// Both are credentials: `Debug` shows neither (the doc comment above is the schema's text).
#[derive(Clone, Serialize, ToSchema)]
pub struct TokenPair {
    /// JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Opaque token for `POST /auth/refresh`; shown once.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenPair")
            .field("access_token", &"[redacted]")
            .field("refresh_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Normalises an email as [`crate::text::normalize_email`] does (trim, NFKC, IDNA A-label
/// domain, lowercase; invisible and control characters refused), the error naming `field`.
pub fn normalize_email(field: &str, email: &str) -> Result<String, ApiError> {
    crate::text::normalize_email(email).map_err(|issue| {
        ApiError::new(ErrorCode::ValidationError).with_detail(field.to_owned(), issue)
    })
}

/// serde `deserialize_with` for email fields: normalised before validation runs, so
/// `"  Ada@Example.com "` is checked (and stored) as `ada@example.com`, and a lookalike
/// (`ada@exam\u{200b}ple.com`) is a 400 naming the field.
pub fn deserialize_email<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
    let raw = <String as serde::Deserialize>::deserialize(deserializer)?;
    crate::text::normalize_email(&raw).map_err(serde::de::Error::custom)
}

/// Identity's share of the app: the database, the JWT keys, the login throttle and the refresh
/// lifetimes, and nothing else. `App` builds it; handlers extract it (it is on every request of
/// a router built by `Api::into_router`), so identity never reaches for the whole app.
#[derive(Clone, Debug)]
pub struct Identity {
    db: Option<Db>,
    keys: Arc<JwtKeys>,
    login_throttle: Option<Throttle>,
    lifetimes: RefreshLifetimes,
    hooks: IdentityHooks,
}

/// Runs inside the registration's transaction, after the account's row is written: what it
/// writes (a welcome job through `Jobs::enqueue_tx`, a profile row) commits with the account
/// or not at all, and an error fails the registration.
pub type RegistrationHook = Arc<
    dyn Fn(crate::db::Tx, User) -> futures_util::future::BoxFuture<'static, Result<(), ApiError>>
        + Send
        + Sync,
>;

/// The hooks an app attaches to identity (`App::on_registration`).
#[derive(Clone, Default)]
pub struct IdentityHooks {
    /// After registration, inside its transaction.
    pub registered: Vec<RegistrationHook>,
}

impl std::fmt::Debug for IdentityHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityHooks")
            .field("registered", &self.registered.len())
            .finish()
    }
}

/// How long a refresh family lives (`RAMPART_REFRESH_IDLE` / `RAMPART_REFRESH_ABSOLUTE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshLifetimes {
    /// A family unused this long expires.
    pub idle: Duration,
    /// A family this old expires, used or not.
    pub absolute: Duration,
}

impl Default for RefreshLifetimes {
    fn default() -> Self {
        Self {
            idle: DEFAULT_REFRESH_IDLE,
            absolute: DEFAULT_REFRESH_ABSOLUTE,
        }
    }
}

impl Identity {
    /// Identity over `db` (every flow but token verification needs one), signing with `keys`,
    /// limiting logins with `login_throttle`.
    pub fn new(
        db: Option<Db>,
        keys: Arc<JwtKeys>,
        login_throttle: Option<Throttle>,
        lifetimes: RefreshLifetimes,
    ) -> Self {
        Self {
            db,
            keys,
            login_throttle,
            hooks: IdentityHooks::default(),
            lifetimes,
        }
    }

    /// The same identity running `hooks` (see [`RegistrationHook`]).
    pub fn with_hooks(mut self, hooks: IdentityHooks) -> Self {
        self.hooks = hooks;
        self
    }

    /// The limit on login attempts per (account, client IP).
    pub fn login_throttle(&self) -> Option<&Throttle> {
        self.login_throttle.as_ref()
    }

    fn db(&self) -> Result<&Db, ApiError> {
        self.db
            .as_ref()
            .ok_or_else(|| ApiError::internal("identity needs a database"))
    }
}

impl AsRef<Identity> for Identity {
    fn as_ref(&self) -> &Identity {
        self
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        crate::context::shared::<Identity>(&parts.extensions)
            .cloned()
            .ok_or_else(|| {
                ApiError::internal(
                    "the identity service is missing: build the router with Api::into_router",
                )
            })
    }
}

fn invalid_credentials() -> ApiError {
    ApiError::new(ErrorCode::InvalidCredentials)
}

fn refused_refresh() -> ApiError {
    ApiError::unauthenticated().with_message("the refresh token is invalid or expired")
}

fn new_refresh_token() -> Result<(String, Vec<u8>), ApiError> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| ApiError::internal(e.to_string()))?;
    let token = format!(
        "rt_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    );
    let hash = Sha256::digest(token.as_bytes()).to_vec();
    Ok((token, hash))
}

impl Identity {
    /// A new access token, and a refresh token in `family` (a new family when `None`).
    async fn issue_pair(
        &self,
        user: &UserRow,
        family: Option<(Uuid, chrono::DateTime<Utc>)>,
    ) -> Result<TokenPair, ApiError> {
        let db = self.db()?;
        let now = crate::db::now();
        let (family_id, family_started_at) = family.unwrap_or((Uuid::now_v7(), now));
        let (refresh_token, hash) = new_refresh_token()?;
        let row = RefreshRow {
            id: Uuid::now_v7(),
            family_id,
            user_id: user.id,
            family_started_at,
            created_at: now,
            used: false,
            revoked: false,
        };
        store::insert_refresh(db, &row, &hash).await?;
        let access_token = self
            .keys
            .issue(user.id, &user.roles)
            .map_err(ApiError::internal)?;
        Ok(TokenPair {
            access_token,
            refresh_token,
            token_type: "Bearer",
            expires_in: self.keys.config().access_ttl.as_secs(),
        })
    }

    /// Creates an account with no roles beyond `default_roles`.
    pub async fn register(
        &self,
        email: &str,
        password: String,
        display_name: &str,
        default_roles: &[&str],
    ) -> Result<User, ApiError> {
        password::check_new_password("password", &password)?;
        let hash = password::hash(password).await?;
        let row = UserRow {
            id: Uuid::now_v7(),
            email: normalize_email("email", email)?,
            password_hash: hash,
            display_name: display_name.trim().to_owned(),
            roles: default_roles.iter().map(|r| (*r).to_owned()).collect(),
            disabled: false,
            // As stored (microseconds): the response shows what a later read shows.
            created_at: crate::db::now(),
        };
        let db = self.db()?;
        if self.hooks.registered.is_empty() {
            store::create_user(db, &row).await?;
        } else {
            let tx = crate::db::Tx::begin(db).await?;
            store::create_user_in(db, Some(&tx), &row).await?;
            for hook in &self.hooks.registered {
                hook(tx.clone(), User::from(&row)).await?;
            }
            tx.commit().await?;
        }
        tracing::info!(event = "user_registered", subject = %row.id, "audit");
        Ok(User::from(&row))
    }

    /// Checks credentials and starts a token family. Unknown email, wrong password and a disabled
    /// account give the same error after the same work.
    ///
    /// Attempts are limited per (account, client IP) before any hashing, so rotating addresses
    /// through a trusted proxy's `X-Forwarded-For` cannot brute-force one account faster.
    pub async fn login(
        &self,
        email: &str,
        password: String,
        client: Option<std::net::IpAddr>,
    ) -> Result<TokenPair, ApiError> {
        let db = self.db()?;
        let email = normalize_email("email", email)?;
        if let Some(throttle) = self.login_throttle() {
            let client = client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
            if let Err(error) = throttle.check(&format!("{email}|{client}")).await {
                tracing::info!(event = "login_throttled", "audit");
                return Err(error);
            }
        }
        let user = store::user_by_email(db, &email).await?;
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        let matches = password::verify(password.clone(), stored).await?;
        let Some(user) = user.filter(|u| matches && !u.disabled) else {
            metrics::counter!("auth_logins_total", "outcome" => "failure").increment(1);
            tracing::info!(event = "login_failed", "audit");
            return Err(invalid_credentials());
        };
        if password::needs_rehash(&user.password_hash) {
            let upgraded = password::hash(password).await?;
            store::set_password_hash(db, user.id, &upgraded).await?;
        }
        metrics::counter!("auth_logins_total", "outcome" => "success").increment(1);
        tracing::info!(event = "login_succeeded", subject = %user.id, "audit");
        self.issue_pair(&user, None).await
    }

    /// Exchanges a refresh token for a new pair (rotation), detecting reuse.
    pub async fn refresh(&self, token: &str) -> Result<TokenPair, ApiError> {
        let db = self.db()?;
        let hash = Sha256::digest(token.as_bytes()).to_vec();
        let Some(row) = store::refresh_by_hash(db, &hash).await? else {
            return Err(refused_refresh());
        };
        if row.revoked {
            return Err(refused_refresh());
        }
        if !store::claim_refresh(db, row.id).await? {
            // Already exchanged: someone holds a copy. Kill the family, the newest token too.
            let revoked = store::revoke_family(db, row.family_id).await?;
            metrics::counter!("auth_refresh_reuse_total").increment(1);
            tracing::warn!(event = "refresh_family_revoked", subject = %row.user_id, reason = "reuse", revoked, "audit");
            return Err(refused_refresh());
        }
        let now = Utc::now();
        let idle = chrono::Duration::from_std(self.lifetimes.idle).unwrap_or(chrono::Duration::MAX);
        let absolute =
            chrono::Duration::from_std(self.lifetimes.absolute).unwrap_or(chrono::Duration::MAX);
        if now - row.created_at > idle || now - row.family_started_at > absolute {
            store::revoke_family(db, row.family_id).await?;
            return Err(refused_refresh());
        }
        let user = store::user_by_id(db, row.user_id)
            .await?
            .filter(|u| !u.disabled)
            .ok_or_else(refused_refresh)?;
        self.issue_pair(&user, Some((row.family_id, row.family_started_at)))
            .await
    }

    /// Revokes the family of a refresh token. Unknown tokens are not an error (no oracle).
    pub async fn logout(&self, token: &str) -> Result<(), ApiError> {
        let db = self.db()?;
        let hash = Sha256::digest(token.as_bytes()).to_vec();
        if let Some(row) = store::refresh_by_hash(db, &hash).await? {
            store::revoke_family(db, row.family_id).await?;
            tracing::info!(event = "logout", subject = %row.user_id, "audit");
        }
        Ok(())
    }

    /// Changes a password after checking the current one; revokes every refresh family.
    pub async fn change_password(
        &self,
        user_id: Uuid,
        current: String,
        new: String,
    ) -> Result<(), ApiError> {
        let db = self.db()?;
        password::check_new_password("new_password", &new)?;
        let user = store::user_by_id(db, user_id)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        if !password::verify(current, Some(user.password_hash.clone())).await? {
            return Err(invalid_credentials().with_detail("current_password", "does not match"));
        }
        let hash = password::hash(new).await?;
        store::set_password_hash(db, user_id, &hash).await?;
        let revoked = store::revoke_user(db, user_id).await?;
        metrics::counter!("auth_password_changes_total").increment(1);
        tracing::info!(event = "password_changed", subject = %user_id, revoked, "audit");
        Ok(())
    }

    /// One page of users for administrators.
    pub async fn list_users(
        &self,
        page: crate::pagination::OffsetPage,
    ) -> Result<crate::response::Paginated<User>, ApiError> {
        let db = self.db()?;
        let limit = i64::from(page.per_page());
        let offset =
            i64::try_from(page.offset()).map_err(|_| ApiError::bad_request("page is too large"))?;
        let (rows, total) = store::list_users(db, limit, offset).await?;
        Ok(crate::response::Paginated {
            items: rows.iter().map(User::from).collect(),
            meta: page.meta(u64::try_from(total).unwrap_or(0)),
        })
    }

    /// Replaces another user's roles. Nobody changes their own (an admin cannot lock themselves
    /// out, or quietly widen their own rights). Every role must be declared in the app's `roles!`
    /// table (`admin` included); an unknown one is a 400 naming it (`roles[1]`). Takes effect at
    /// the user's next token refresh.
    pub async fn set_roles(
        &self,
        table: &RbacTable,
        actor: Uuid,
        user_id: Uuid,
        roles: Vec<String>,
    ) -> Result<User, ApiError> {
        if actor == user_id {
            return Err(ApiError::forbidden().with_message("you cannot change your own roles"));
        }
        let unknown: Vec<(usize, &String)> = roles
            .iter()
            .enumerate()
            .filter(|(_, role)| !table.is_role(role))
            .collect();
        if !unknown.is_empty() {
            let mut error = ApiError::new(ErrorCode::ValidationError)
                .with_message("the request names roles this app does not declare");
            for (index, role) in unknown {
                error = error.with_detail(
                    format!("roles[{index}]"),
                    format!("`{}` is not a role of this app", printable(role)),
                );
            }
            return Err(error);
        }
        let mut roles = roles;
        roles.sort();
        roles.dedup();
        let db = self.db()?;
        if !store::set_roles(db, user_id, &roles).await? {
            return Err(ApiError::not_found());
        }
        metrics::counter!("auth_role_changes_total").increment(1);
        tracing::info!(event = "roles_changed", actor = %actor, subject = %user_id, roles = %roles.join(" "), "audit");
        let user = store::user_by_id(db, user_id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        Ok(User::from(&user))
    }

    /// Disables a user: their refresh tokens and API keys stop at once; access tokens already
    /// issued expire within their 15 minutes (they are not checked against a revocation list).
    pub async fn disable_user(&self, actor: Uuid, user_id: Uuid) -> Result<(), ApiError> {
        if actor == user_id {
            return Err(ApiError::forbidden().with_message("you cannot disable yourself"));
        }
        let db = self.db()?;
        if !store::disable(db, user_id).await? {
            return Err(ApiError::not_found());
        }
        let tokens = store::revoke_user(db, user_id).await?;
        let keys = api_keys::revoke_all(db, user_id).await?;
        metrics::counter!("auth_disables_total").increment(1);
        tracing::info!(event = "user_disabled", actor = %actor, subject = %user_id, tokens, keys, "audit");
        Ok(())
    }
}

/// Idle lifetime default of a refresh family.
pub const DEFAULT_REFRESH_IDLE: Duration = Duration::from_secs(7 * 24 * 3600);
/// Absolute lifetime default of a refresh family.
pub const DEFAULT_REFRESH_ABSOLUTE: Duration = Duration::from_secs(30 * 24 * 3600);

/// A client-sent value as it may appear in an error message: at most 64 characters, control
/// characters replaced.
fn printable(value: &str) -> String {
    value
        .chars()
        .take(64)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// Creates the first administrator, or grants `admin` (and the table's registration roles) to
/// an existing account. Used by `TASKBOARD_ADMIN_EMAIL`/`_PASSWORD` and the `create-admin`
/// command. `identity` is the app (`&App`) or its [`Identity`].
pub async fn ensure_admin(
    identity: &impl AsRef<Identity>,
    table: &RbacTable,
    email: &str,
    password: String,
) -> Result<User, ApiError> {
    let identity = identity.as_ref();
    let db = identity.db()?;
    let email = normalize_email("email", email)?;
    let granted: Vec<&str> = std::iter::once(ADMIN_ROLE)
        .chain(table.registration_roles().iter().copied())
        .collect();
    match store::user_by_email(db, &email).await? {
        Some(user) => {
            let mut roles = user.roles.clone();
            for role in &granted {
                if !roles.iter().any(|r| r == role) {
                    roles.push((*role).to_owned());
                }
            }
            store::set_roles(db, user.id, &roles).await?;
            let user = store::user_by_id(db, user.id)
                .await?
                .ok_or_else(ApiError::not_found)?;
            tracing::info!(event = "admin_ensured", subject = %user.id, "audit");
            Ok(User::from(&user))
        }
        None => {
            let user = identity
                .register(&email, password, "Administrator", &granted)
                .await?;
            tracing::info!(event = "admin_created", subject = %user.id, "audit");
            Ok(user)
        }
    }
}
