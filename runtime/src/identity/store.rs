//! The statements of the identity tables: literal SQL (`$n` parameters, which both backends
//! read) run through the database layer's one backend dispatch, like the resource store's.
//! Reads that must see the latest writes (a login right after a registration, a refresh right
//! after a rotation) go to the primary.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::statement::{Affected, Answer, Scalar};
use crate::db::{Db, Statement, Target, Value, map_sqlx_error};
use crate::error::{ApiError, ErrorCode};

/// Runs one identity statement, errors mapped as every database error is.
pub(crate) async fn fetch<A: Answer>(
    db: &Db,
    label: &'static str,
    target: Target,
    sql: &'static str,
    values: Vec<Value>,
) -> Result<A, ApiError> {
    db.fetch(
        label,
        target,
        Statement::literal(sql, values),
        map_sqlx_error,
    )
    .await
}

/// Runs an `UPDATE` whose only parameter (`$1`) is an id, on the primary; returns the rows
/// it changed.
pub(crate) async fn update_by_id(
    db: &Db,
    label: &'static str,
    sql: &'static str,
    id: Uuid,
) -> Result<u64, ApiError> {
    let Affected(count) = fetch(db, label, Target::Write, sql, vec![Value::Uuid(id)]).await?;
    Ok(count)
}

/// The columns of a user, in [`UserTuple`] order.
macro_rules! user_columns {
    () => {
        "id, email, password_hash, display_name, roles, disabled, created_at"
    };
}

/// A stored user. `Debug` leaves out the password hash.
#[derive(Clone)]
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

impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("display_name", &self.display_name)
            .field("roles", &self.roles)
            .field("disabled", &self.disabled)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
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
    create_user_in(db, None, user).await
}

/// Inserts a user, inside `tx` when one is given (a registration hook's transaction).
pub async fn create_user_in(
    db: &Db,
    tx: Option<&crate::db::Tx>,
    user: &UserRow,
) -> Result<(), ApiError> {
    let sql = concat!(
        "INSERT INTO rampart_users (",
        user_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
    );
    let values = vec![
        Value::Uuid(user.id),
        Value::Text(user.email.clone()),
        Value::Text(user.password_hash.clone()),
        Value::Text(user.display_name.clone()),
        Value::Text(user.roles.join(" ")),
        Value::Bool(user.disabled),
        Value::Timestamp(user.created_at),
    ];
    let result = match tx {
        Some(tx) => {
            tx.fetch::<Affected>(
                "identity.create_user",
                crate::db::Statement::literal(sql, values),
                map_sqlx_error,
            )
            .await
        }
        None => fetch::<Affected>(db, "identity.create_user", Target::Write, sql, values).await,
    };
    match result {
        Err(error) if error.code() == ErrorCode::Conflict => {
            Err(ApiError::new(ErrorCode::Conflict)
                .with_message("an account with this email exists")
                .with_detail("email", "taken"))
        }
        other => other.map(|_| ()),
    }
}

/// The user with this (lowercased) email.
pub async fn user_by_email(db: &Db, email: &str) -> Result<Option<UserRow>, ApiError> {
    let sql = concat!(
        "SELECT ",
        user_columns!(),
        " FROM rampart_users WHERE email = $1"
    );
    let value = vec![Value::Text(email.to_owned())];
    let row: Option<UserTuple> =
        fetch(db, "identity.user_by_email", Target::Write, sql, value).await?;
    Ok(row.map(user_of))
}

/// The user with this id.
pub async fn user_by_id(db: &Db, id: Uuid) -> Result<Option<UserRow>, ApiError> {
    let sql = concat!(
        "SELECT ",
        user_columns!(),
        " FROM rampart_users WHERE id = $1"
    );
    let row: Option<UserTuple> = fetch(
        db,
        "identity.user_by_id",
        Target::Write,
        sql,
        vec![Value::Uuid(id)],
    )
    .await?;
    Ok(row.map(user_of))
}

/// Replaces a user's password hash.
pub async fn set_password_hash(db: &Db, user_id: Uuid, hash: &str) -> Result<(), ApiError> {
    let sql = "UPDATE rampart_users SET password_hash = $1 WHERE id = $2";
    let values = vec![Value::Text(hash.to_owned()), Value::Uuid(user_id)];
    fetch::<Affected>(db, "identity.set_password_hash", Target::Write, sql, values).await?;
    Ok(())
}

/// Stores a new refresh token (only its hash).
pub async fn insert_refresh(db: &Db, row: &RefreshRow, token_hash: &[u8]) -> Result<(), ApiError> {
    let sql = "INSERT INTO rampart_refresh_tokens \
               (id, family_id, user_id, token_hash, family_started_at, created_at, used, revoked) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    let values = vec![
        Value::Uuid(row.id),
        Value::Uuid(row.family_id),
        Value::Uuid(row.user_id),
        Value::Bytes(token_hash.to_vec()),
        Value::Timestamp(row.family_started_at),
        Value::Timestamp(row.created_at),
        Value::Bool(row.used),
        Value::Bool(row.revoked),
    ];
    fetch::<Affected>(db, "identity.insert_refresh", Target::Write, sql, values).await?;
    Ok(())
}

type RefreshTuple = (Uuid, Uuid, Uuid, DateTime<Utc>, DateTime<Utc>, bool, bool);

/// The refresh token with this hash.
pub async fn refresh_by_hash(db: &Db, token_hash: &[u8]) -> Result<Option<RefreshRow>, ApiError> {
    let sql = "SELECT id, family_id, user_id, family_started_at, created_at, used, revoked \
               FROM rampart_refresh_tokens WHERE token_hash = $1";
    let value = vec![Value::Bytes(token_hash.to_vec())];
    let row: Option<RefreshTuple> =
        fetch(db, "identity.refresh_by_hash", Target::Write, sql, value).await?;
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
    let sql = concat!(
        "SELECT ",
        user_columns!(),
        " FROM rampart_users ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2"
    );
    let count = "SELECT COUNT(*) FROM rampart_users";
    let page = vec![Value::Int64(limit), Value::Int64(offset)];
    let rows: Vec<UserTuple> = fetch(db, "identity.list_users", Target::Read, sql, page).await?;
    let Scalar(total) = fetch(db, "identity.count_users", Target::Read, count, Vec::new()).await?;
    Ok((rows.into_iter().map(user_of).collect(), total.unwrap_or(0)))
}

/// Replaces a user's roles; `false` when there is no such user.
pub async fn set_roles(db: &Db, user_id: Uuid, roles: &[String]) -> Result<bool, ApiError> {
    let sql = "UPDATE rampart_users SET roles = $1 WHERE id = $2";
    let values = vec![Value::Text(roles.join(" ")), Value::Uuid(user_id)];
    let Affected(changed) = fetch(db, "identity.set_roles", Target::Write, sql, values).await?;
    Ok(changed == 1)
}

/// Marks a user disabled; `false` when there is no such user.
pub async fn disable(db: &Db, user_id: Uuid) -> Result<bool, ApiError> {
    let sql = "UPDATE rampart_users SET disabled = TRUE WHERE id = $1";
    Ok(update_by_id(db, "identity.disable", sql, user_id).await? == 1)
}
