//! SQL of the identity tables, once per statement: `with_pool!` runs the same sqlx code on
//! whichever backend the app uses (sqlx's `Any` driver cannot carry `Uuid`/`DateTime`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::Db;
use crate::error::{ApiError, ErrorCode};

use crate::with_pool;

/// Runs an `UPDATE` whose only parameter (`$1`) is an id, on the primary; returns the rows
/// it changed.
pub(crate) async fn update_by_id(
    db: &Db,
    query: &'static str,
    sql: &'static str,
    id: Uuid,
) -> Result<u64, ApiError> {
    db.run(query, async {
        with_pool!(db.primary(), |pool| sqlx::query(sql)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
    })
    .await
}

/// A stored user.
#[derive(Debug, Clone)]
pub struct UserRow {
    /// Id.
    pub id: Uuid,
    /// Lowercased email.
    pub email: String,
    /// PHC string of the password hash.
    pub password_hash: String,
    /// Display name.
    pub display_name: String,
    /// Roles.
    pub roles: Vec<String>,
    /// Disabled accounts cannot log in or refresh.
    pub disabled: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

type UserTuple = (Uuid, String, String, String, String, bool, DateTime<Utc>);

fn user_of(row: UserTuple) -> UserRow {
    let (id, email, password_hash, display_name, roles, disabled, created_at) = row;
    let roles = roles.split_whitespace().map(str::to_owned).collect();
    UserRow {
        id,
        email,
        password_hash,
        display_name,
        roles,
        disabled,
        created_at,
    }
}

const USER_COLUMNS: &str = "id, email, password_hash, display_name, roles, disabled, created_at";

/// A stored refresh token.
#[derive(Debug, Clone, Copy)]
pub struct RefreshRow {
    /// Id.
    pub id: Uuid,
    /// The family (one login) it belongs to.
    pub family_id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// When the family's first token was issued (absolute expiry).
    pub family_started_at: DateTime<Utc>,
    /// When this token was issued (idle expiry).
    pub created_at: DateTime<Utc>,
    /// Already exchanged.
    pub used: bool,
    /// Revoked (logout, reuse, password change, disable).
    pub revoked: bool,
}

/// Inserts a user; a taken email is 409 naming `email`.
pub async fn create_user(db: &Db, user: &UserRow) -> Result<(), ApiError> {
    let roles = user.roles.join(" ");
    let sql = "INSERT INTO rampart_users (id, email, password_hash, display_name, roles, disabled, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7)";
    let result = db
        .run("identity.create_user", async {
            with_pool!(db.primary(), |pool| sqlx::query(sql)
                .bind(user.id)
                .bind(&user.email)
                .bind(&user.password_hash)
                .bind(&user.display_name)
                .bind(&roles)
                .bind(user.disabled)
                .bind(user.created_at)
                .execute(pool)
                .await
                .map(|_| ()))
        })
        .await;
    match result {
        Err(error) if error.code() == ErrorCode::Conflict => {
            Err(ApiError::new(ErrorCode::Conflict)
                .with_message("an account with this email exists")
                .with_detail("email", "taken"))
        }
        other => other,
    }
}

/// The user with this (lowercased) email.
pub async fn user_by_email(db: &Db, email: &str) -> Result<Option<UserRow>, ApiError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM rampart_users WHERE email = $1");
    let row: Option<UserTuple> = db
        .run("identity.user_by_email", async {
            let sql = sqlx::AssertSqlSafe(sql.as_str());
            with_pool!(db.primary(), |pool| sqlx::query_as(sql)
                .bind(email)
                .fetch_optional(pool)
                .await)
        })
        .await?;
    Ok(row.map(user_of))
}

/// The user with this id.
pub async fn user_by_id(db: &Db, id: Uuid) -> Result<Option<UserRow>, ApiError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM rampart_users WHERE id = $1");
    let row: Option<UserTuple> = db
        .run("identity.user_by_id", async {
            let sql = sqlx::AssertSqlSafe(sql.as_str());
            with_pool!(db.primary(), |pool| sqlx::query_as(sql)
                .bind(id)
                .fetch_optional(pool)
                .await)
        })
        .await?;
    Ok(row.map(user_of))
}

/// Replaces a user's password hash.
pub async fn set_password_hash(db: &Db, user_id: Uuid, hash: &str) -> Result<(), ApiError> {
    let sql = "UPDATE rampart_users SET password_hash = $1 WHERE id = $2";
    db.run("identity.set_password_hash", async {
        with_pool!(db.primary(), |pool| sqlx::query(sql)
            .bind(hash)
            .bind(user_id)
            .execute(pool)
            .await
            .map(|_| ()))
    })
    .await
}

/// Stores a new refresh token (only its hash).
pub async fn insert_refresh(db: &Db, row: &RefreshRow, token_hash: &[u8]) -> Result<(), ApiError> {
    let sql = "INSERT INTO rampart_refresh_tokens \
               (id, family_id, user_id, token_hash, family_started_at, created_at, used, revoked) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    db.run("identity.insert_refresh", async {
        with_pool!(db.primary(), |pool| sqlx::query(sql)
            .bind(row.id)
            .bind(row.family_id)
            .bind(row.user_id)
            .bind(token_hash)
            .bind(row.family_started_at)
            .bind(row.created_at)
            .bind(row.used)
            .bind(row.revoked)
            .execute(pool)
            .await
            .map(|_| ()))
    })
    .await
}

type RefreshTuple = (Uuid, Uuid, Uuid, DateTime<Utc>, DateTime<Utc>, bool, bool);

/// The refresh token with this hash.
pub async fn refresh_by_hash(db: &Db, token_hash: &[u8]) -> Result<Option<RefreshRow>, ApiError> {
    let sql = "SELECT id, family_id, user_id, family_started_at, created_at, used, revoked \
               FROM rampart_refresh_tokens WHERE token_hash = $1";
    let row: Option<RefreshTuple> = db
        .run("identity.refresh_by_hash", async {
            with_pool!(db.primary(), |pool| sqlx::query_as(sql)
                .bind(token_hash)
                .fetch_optional(pool)
                .await)
        })
        .await?;
    Ok(row.map(
        |(id, family_id, user_id, family_started_at, created_at, used, revoked)| RefreshRow {
            id,
            family_id,
            user_id,
            family_started_at,
            created_at,
            used,
            revoked,
        },
    ))
}

/// Marks a token used, atomically: of concurrent exchanges of one token exactly one gets `true`.
pub async fn claim_refresh(db: &Db, id: Uuid) -> Result<bool, ApiError> {
    let sql = "UPDATE rampart_refresh_tokens SET used = TRUE WHERE id = $1 AND used = FALSE AND revoked = FALSE";
    Ok(update_by_id(db, "identity.claim_refresh", sql, id).await? == 1)
}

/// Revokes every token of a family (the newest included).
pub async fn revoke_family(db: &Db, family_id: Uuid) -> Result<u64, ApiError> {
    let sql =
        "UPDATE rampart_refresh_tokens SET revoked = TRUE WHERE family_id = $1 AND revoked = FALSE";
    update_by_id(db, "identity.revoke_family", sql, family_id).await
}

/// Revokes every token of every family of a user.
pub async fn revoke_user(db: &Db, user_id: Uuid) -> Result<u64, ApiError> {
    let sql =
        "UPDATE rampart_refresh_tokens SET revoked = TRUE WHERE user_id = $1 AND revoked = FALSE";
    update_by_id(db, "identity.revoke_user", sql, user_id).await
}

/// One page of users, newest first, and the total.
pub async fn list_users(db: &Db, limit: i64, offset: i64) -> Result<(Vec<UserRow>, i64), ApiError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM rampart_users ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2"
    );
    let count = "SELECT COUNT(*) FROM rampart_users";
    let sql = sql.as_str();
    let (rows, total): (Vec<UserTuple>, i64) = db
        .read("identity.list_users", |pool| async move {
            let sql = sqlx::AssertSqlSafe(sql);
            with_pool!(&pool, |pool| {
                let rows = sqlx::query_as(sql)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(pool)
                    .await?;
                let total = sqlx::query_scalar(count).fetch_one(pool).await?;
                Ok((rows, total))
            })
        })
        .await?;
    Ok((rows.into_iter().map(user_of).collect(), total))
}

/// Replaces a user's roles; `false` when there is no such user.
pub async fn set_roles(db: &Db, user_id: Uuid, roles: &[String]) -> Result<bool, ApiError> {
    let sql = "UPDATE rampart_users SET roles = $1 WHERE id = $2";
    let roles = roles.join(" ");
    let affected = db
        .run("identity.set_roles", async {
            with_pool!(db.primary(), |pool| sqlx::query(sql)
                .bind(&roles)
                .bind(user_id)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()))
        })
        .await?;
    Ok(affected == 1)
}

/// Marks a user disabled; `false` when there is no such user.
pub async fn disable(db: &Db, user_id: Uuid) -> Result<bool, ApiError> {
    let sql = "UPDATE rampart_users SET disabled = TRUE WHERE id = $1";
    Ok(update_by_id(db, "identity.disable", sql, user_id).await? == 1)
}
