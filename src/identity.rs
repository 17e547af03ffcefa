//! Accounts and tokens as endpoints any app can mount: register, login, refresh, logout and
//! password change. They are written with rampart's own `#[endpoint]`, so they get the same
//! pipeline, validation, rate limits and documentation as an app's endpoints.
//!
//! ```no_run
//! rampart::roles! {
//!     #[registration]
//!     member: ["notes:read", "notes:write"],
//! }
//! # async fn setup(db: rampart::Db) -> Result<(), Box<dyn std::error::Error>> {
//! // Adds /me, /auth/* and /admin/users*; role names are checked against the crate's `roles!`
//! // table, and registration grants its `#[registration]` roles.
//! let api = rampart::identity::mount(rampart::Api::new(), rampart::rbac!());
//! rampart::identity::migrate(&db).await?; // creates the identity tables
//! # let _ = api;
//! # Ok(())
//! # }
//! # fn main() {}
//! ```

use serde::Deserialize;
use validator::Validate;

use crate::prelude::*;
use rampart_runtime::auth::{RbacTable, Roles};
use rampart_runtime::identity::api_keys;
pub use rampart_runtime::identity::api_keys::{ApiKeyInfo, ApiKeyList, CreatedApiKey};
use rampart_runtime::identity::{self, Identity};
pub use rampart_runtime::identity::{
    IdentityHooks, MIGRATIONS, RegistrationHook, TokenPair, User, ensure_admin, migrate,
};
use rampart_runtime::{ClientIp, Sensitive};

/// A new account.
#[derive(Debug, Deserialize, Validate, Schema)]
#[serde(deny_unknown_fields)]
pub struct RegisterInput {
    /// Email address (trimmed and lowercased before validation).
    #[validate(email, length(max = 254))]
    #[serde(deserialize_with = "identity::deserialize_email")]
    pub email: String,
    /// 12 to 128 characters.
    #[validate(length(min = 12, max = 128))]
    pub password: String,
    /// Name shown to others.
    #[validate(length(min = 1, max = 100))]
    pub display_name: String,
}

/// Credentials.
#[derive(Debug, Deserialize, Validate, Schema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    /// Email address.
    #[validate(length(min = 1, max = 254))]
    #[serde(deserialize_with = "identity::deserialize_email")]
    pub email: String,
    /// Password. (Control characters are accepted here, unlike in new passwords, so that an
    /// account created before they were refused can still log in.)
    #[validate(length(min = 1, max = 1024))]
    #[serde(deserialize_with = "rampart_runtime::text::allow_control")]
    pub password: String,
}

/// A refresh token.
#[derive(Debug, Deserialize, Validate, Schema)]
#[serde(deny_unknown_fields)]
pub struct RefreshInput {
    /// The opaque refresh token. (The bound is loose on purpose: anything token-shaped, an
    /// access token included, gets the same 401 as an unknown refresh token.)
    #[validate(length(min = 1, max = 4096))]
    pub refresh_token: String,
}

/// A password change.
#[derive(Debug, Deserialize, Validate, Schema)]
#[serde(deny_unknown_fields)]
pub struct PasswordInput {
    /// The current password (control characters accepted, as at login).
    #[validate(length(min = 1, max = 1024))]
    #[serde(deserialize_with = "rampart_runtime::text::allow_control")]
    pub current_password: String,
    /// The new password, 12 to 128 characters.
    #[validate(length(min = 12, max = 128))]
    pub new_password: String,
}

/// Create an account.
///
/// The account gets the app's registration roles (`#[registration]` in its `roles!` table);
/// roles cannot be chosen here.
#[endpoint(post = "/auth/register", public, tag = "auth", rate_limit = "10/min", errors = [409])]
pub async fn register(
    ctx: Ctx,
    identity: Identity,
    Roles(table): Roles,
    Json(input): Json<RegisterInput>,
) -> ApiResult<Created<User>> {
    let user = identity
        .register(
            &input.email,
            input.password,
            &input.display_name,
            table.registration_roles(),
        )
        .await?;
    // Where the new account reads itself once logged in, under the API's own prefix.
    Ok(Created::at(ctx.api_path("/me"), user))
}

/// The caller, as authenticated: user id, roles, and how the request authenticated.
#[endpoint(get = "/me", tag = "identity")]
pub async fn me(ctx: Ctx) -> ApiResult<Principal> {
    Ok(ctx.user()?.clone())
}

/// Log in with email and password.
///
/// Unknown email and wrong password give the same 401 `INVALID_CREDENTIALS`.
#[endpoint(post = "/auth/login", public, tag = "auth", rate_limit = "10/min", errors = [401])]
pub async fn login(
    identity: Identity,
    ClientIp(client): ClientIp,
    Json(input): Json<LoginInput>,
) -> ApiResult<Sensitive<TokenPair>> {
    identity
        .login(&input.email, input.password, client)
        .await
        .map(Sensitive)
}

/// Exchange a refresh token for a new pair.
///
/// Every refresh token works once; presenting one again revokes its whole family.
#[endpoint(post = "/auth/refresh", public, tag = "auth", rate_limit = "30/min", errors = [401])]
pub async fn refresh(
    identity: Identity,
    Json(input): Json<RefreshInput>,
) -> ApiResult<Sensitive<TokenPair>> {
    identity.refresh(&input.refresh_token).await.map(Sensitive)
}

/// Log out: revoke the refresh token's family.
#[endpoint(post = "/auth/logout", public, tag = "auth", rate_limit = "30/min")]
pub async fn logout(identity: Identity, Json(input): Json<RefreshInput>) -> ApiResult<NoContent> {
    identity
        .logout(&input.refresh_token)
        .await
        .map(|()| NoContent)
}

/// Change the password; every refresh token of the account is revoked.
#[endpoint(post = "/auth/password", tag = "auth", rate_limit = "10/min")]
pub async fn change_password(
    ctx: Ctx,
    identity: Identity,
    Json(input): Json<PasswordInput>,
) -> ApiResult<NoContent> {
    let user = ctx.user()?.user_id();
    identity
        .change_password(user, input.current_password, input.new_password)
        .await
        .map(|()| NoContent)
}

/// A new API key.
#[derive(Debug, Deserialize, Validate, Schema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyInput {
    /// What the key is for.
    #[validate(length(min = 1, max = 100))]
    pub name: String,
    /// Limit the key to these of your roles; omit to act with all of them.
    #[validate(length(max = 20))]
    pub roles: Option<Vec<String>>,
}

/// Create an API key; the response is the only time its secret is shown.
///
/// Requires a JWT: a key cannot mint more keys.
#[endpoint(
    post = "/auth/api-keys",
    auth = "jwt",
    tag = "auth",
    rate_limit = "20/hour",
    errors = [403]
)]
pub async fn create_api_key(
    ctx: Ctx,
    db: Db,
    Json(input): Json<ApiKeyInput>,
) -> ApiResult<Sensitive<Created<CreatedApiKey>>> {
    let created = api_keys::create(&db, ctx.user()?, &input.name, input.roles).await?;
    // Keys are read back in the list (the secret never again).
    Ok(Sensitive(Created::at(
        ctx.api_path("/auth/api-keys"),
        created,
    )))
}

/// List your API keys (never their secrets).
#[endpoint(get = "/auth/api-keys", tag = "auth")]
pub async fn list_api_keys(ctx: Ctx, db: Db) -> ApiResult<ApiKeyList> {
    let keys = api_keys::list(&db, ctx.user()?.user_id()).await?;
    Ok(ApiKeyList { keys })
}

/// Revoke one of your API keys.
#[endpoint(delete = "/auth/api-keys/{id}", tag = "auth")]
pub async fn revoke_api_key(ctx: Ctx, db: Db, Path(id): Path<uuid::Uuid>) -> ApiResult<NoContent> {
    api_keys::revoke(&db, ctx.user()?.user_id(), id)
        .await
        .map(|()| NoContent)
}

/// New roles for a user.
#[derive(Debug, Deserialize, Validate, Schema)]
#[serde(deny_unknown_fields)]
pub struct RolesInput {
    /// The complete set of roles (replaces the current ones).
    #[validate(length(max = 20))]
    pub roles: Vec<String>,
}

/// List accounts (administrators).
#[endpoint(get = "/admin/users", role = "admin", tag = "admin")]
pub async fn admin_list_users(identity: Identity, Page(page): Page) -> ApiResult<Paginated<User>> {
    identity.list_users(page).await
}

/// Replace a user's roles (administrators; never your own).
///
/// Every role must be declared by the app (an unknown one is a 400 naming it). Takes effect
/// at the user's next token refresh.
#[endpoint(put = "/admin/users/{id}/roles", role = "admin", tag = "admin")]
pub async fn admin_set_roles(
    ctx: Ctx,
    identity: Identity,
    Roles(table): Roles,
    Path(id): Path<uuid::Uuid>,
    Json(input): Json<RolesInput>,
) -> ApiResult<User> {
    identity
        .set_roles(table, ctx.user()?.user_id(), id, input.roles)
        .await
}

/// Disable a user (administrators): their refresh tokens and API keys stop at once; access
/// tokens already issued expire within 15 minutes.
#[endpoint(post = "/admin/users/{id}/disable", role = "admin", tag = "admin")]
pub async fn admin_disable_user(
    ctx: Ctx,
    identity: Identity,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<NoContent> {
    identity
        .disable_user(ctx.user()?.user_id(), id)
        .await
        .map(|()| NoContent)
}

/// Mounts every identity endpoint, with the app's RBAC table (`rampart::rbac!()`): role
/// changes accept only its roles, and registration grants its `#[registration]` roles.
pub fn mount(api: Api, roles: &'static RbacTable) -> Api {
    api.roles(roles)
        .tag(
        "auth",
        "Accounts, tokens and API keys: register, log in, refresh, log out, change the password.",
    )
    .tag(
        "admin",
        "Administration: users, their roles, disabling accounts.",
    )
    .tag("identity", "The authenticated caller.")
    .mount(me)
    .mount(register)
    .mount(login)
    .mount(refresh)
    .mount(logout)
    .mount(change_password)
    .mount(create_api_key)
    .mount(list_api_keys)
    .mount(revoke_api_key)
    .mount(admin_list_users)
    .mount(admin_set_roles)
    .mount(admin_disable_user)
}
