//! What a store's database errors and preconditions mean for the client: a unique violation is
//! 409 `CONFLICT` naming the field, a foreign-key violation 422 (409 on delete: the row is
//! still referred to), a versioned write without a version 400.

use super::super::{IfMatch, Precondition, Resource};
use crate::db::map_sqlx_error;
use crate::error::{ApiError, ErrorCode};

/// Names the column of a unique violation from the database's own words: SQLite's
/// `UNIQUE constraint failed: projects.owner_id, projects.name` or PostgreSQL's
/// `Key (owner_id, name)=(...)` (the values after `=` are never read, let alone sent).
fn conflict_column(
    writable: &[&'static str],
    message: &str,
    detail: Option<&str>,
) -> Option<&'static str> {
    let listed = match detail.and_then(|d| d.strip_prefix("Key (")) {
        Some(rest) => rest.split(")=").next().unwrap_or_default().to_owned(),
        None => message
            .split_once("failed: ")
            .map(|(_, columns)| columns.to_owned())
            .unwrap_or_default(),
    };
    listed
        .split(',')
        .map(|column| column.trim().rsplit('.').next().unwrap_or_default())
        .filter_map(|column| writable.iter().find(|w| **w == column).copied())
        .next_back()
}

pub(super) fn map_error<R: Resource>(error: sqlx::Error) -> ApiError {
    if let sqlx::Error::Database(db) = &error {
        if db.is_unique_violation() {
            let detail = db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .and_then(|pg| pg.detail());
            let column = conflict_column(R::SPEC.writable, db.message(), detail);
            let mut conflict = ApiError::new(ErrorCode::Conflict)
                .with_message(format!("another {} already has this value", R::SPEC.name));
            if let Some(column) = column {
                conflict = conflict.with_detail(column, "already exists");
            }
            return conflict.with_source(error);
        }
        if db.is_foreign_key_violation() {
            return ApiError::new(ErrorCode::Unprocessable)
                .with_message(format!(
                    "the {} refers to, or is referred to by, another record",
                    R::SPEC.name
                ))
                .with_source(error);
        }
    }
    map_sqlx_error(error)
}

/// A foreign-key violation on delete means other rows still point at this one: a conflict
/// with the current state (409), not an unprocessable request (the 422 of an insert naming a
/// missing row).
pub(super) fn still_referenced<R: Resource>(error: ApiError) -> ApiError {
    if error.code() == ErrorCode::Unprocessable {
        ApiError::new(ErrorCode::Conflict).with_message(format!(
            "the {} is still referred to by other records; remove or archive them first",
            R::SPEC.name
        ))
    } else {
        error
    }
}

/// A write to a versioned resource names the version it is based on, in the body (`version`)
/// or in `If-Match` (`"7"`): neither is a 400 naming `version`, and two that disagree a 400
/// (the client holds two different reads). `If-Match: *` names no version.
/// A resource without a version cannot honour `If-Match` naming a tag (its `ETag` is a hash of
/// a read's body, which no write can compare atomically): 412, so nothing is written on a
/// precondition the server cannot check. `*` and no header pass.
pub(super) fn honourable(versioned: bool, if_match: IfMatch) -> Result<(), ApiError> {
    match if_match.0 {
        Some(Precondition::Version(_) | Precondition::Never) if !versioned => Err(ApiError::new(
            ErrorCode::PreconditionFailed,
        )
        .with_message("this resource has no version, so If-Match with a tag cannot be honoured; send `*` or no If-Match")),
        _ => Ok(()),
    }
}

pub(super) fn required_version(body: Option<i64>, if_match: IfMatch) -> Result<(), ApiError> {
    match (body, if_match.0) {
        (None, None | Some(Precondition::Any)) => Err(ApiError::bad_request(
            "the version this change is based on is required: send `version` in the body or `If-Match: \"<version>\"`",
        )
        .with_detail("version", "required (in the body, or as If-Match)")),
        (Some(body), Some(Precondition::Version(header))) if body != header => Err(
            ApiError::bad_request(format!(
                "`version` in the body ({body}) and If-Match ({header}) disagree; send one, or the same in both"
            ))
            .with_detail("version", format!("differs from If-Match ({header})")),
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::conflict_column;

    #[test]
    fn conflict_names_the_writable_column() {
        let writable = &["name", "description"];
        assert_eq!(
            conflict_column(
                writable,
                "UNIQUE constraint failed: projects.owner_id, projects.name",
                None
            ),
            Some("name")
        );
        assert_eq!(
            conflict_column(
                writable,
                "duplicate key",
                Some("Key (owner_id, name)=(1, description) already exists.")
            ),
            Some("name")
        );
        assert_eq!(conflict_column(writable, "duplicate key", None), None);
    }
}
