//! The CRUD of a resource: get, list (offset or cursor pages, under a parent or not), create,
//! replace, patch and delete, each scoped by a [`RowScope`], and the explanation of a write that
//! changed nothing (404, 409 or 412).

use uuid::Uuid;

use super::super::query::{ListQuery, PageRequest};
use super::super::sql::{self, ColumnCountMismatch, Expect, Filter, Window};
use super::super::{Changes, IfMatch, Resource, RowScope, ServerFields, Value};
use super::Store;
use super::errors::{honourable, required_version, still_referenced};
use crate::db::statement::{Affected, Scalar};
use crate::db::{Target, now};
use crate::error::{ApiError, ErrorCode};
use crate::pagination::PageMeta;
use crate::response::Paginated;

/// A parent-only operation on a resource declared without a parent (a bug in the caller).
fn no_parent<R: Resource>() -> ApiError {
    ApiError::internal(format!("{} has no parent", R::SPEC.name))
}

impl<R: Resource> Store<R> {
    /// One row by id; another owner's row is the same 404 as a missing one.
    pub async fn get(&self, scope: &impl RowScope, id: Uuid) -> Result<R, ApiError> {
        let statement = Self::fixed().get(id, scope.owner_filter());
        self.perform::<Option<R>>(R::SPEC.labels.get, Target::Read, statement)
            .await?
            .ok_or_else(ApiError::not_found)
    }

    /// A page of the scope's rows, filtered and sorted as the query says.
    pub async fn list(
        &self,
        scope: &impl RowScope,
        query: &ListQuery<R>,
    ) -> Result<Paginated<R>, ApiError> {
        if R::SPEC.parent.is_some() {
            return Err(ApiError::internal(format!(
                "{} lives under a parent: use list_under",
                R::SPEC.name
            )));
        }
        self.page(scope, None, query).await
    }

    /// A page of the scope's rows under `parent`; a parent the scope cannot see is a 404.
    pub async fn list_under(
        &self,
        scope: &impl RowScope,
        parent: Uuid,
        query: &ListQuery<R>,
    ) -> Result<Paginated<R>, ApiError> {
        let page = self.page(scope, Some(parent), query).await?;
        if page.items.is_empty() {
            self.require_parent(scope, parent).await?;
        }
        Ok(page)
    }

    async fn require_parent(&self, scope: &impl RowScope, parent: Uuid) -> Result<(), ApiError> {
        let statement = Self::fixed()
            .parent_exists(parent, scope.owner_filter())
            .ok_or_else(|| no_parent::<R>())?;
        match self
            .perform(R::SPEC.labels.get, Target::Read, statement)
            .await?
        {
            Scalar(Some(count)) if count > 0 => Ok(()),
            Scalar(_) => Err(ApiError::not_found()),
        }
    }

    async fn page(
        &self,
        scope: &impl RowScope,
        parent: Option<Uuid>,
        query: &ListQuery<R>,
    ) -> Result<Paginated<R>, ApiError> {
        let spec = &R::SPEC;
        let filter = Filter {
            owner: scope.owner_filter(),
            parent,
            equals: query.filters.clone(),
        };
        let sort = query.sort;
        let (window, per_page, context) = match &query.page {
            PageRequest::Offset(page) => {
                let offset = i64::try_from(page.offset())
                    .map_err(|_| ApiError::bad_request("page is too large"))?;
                (Window::Offset { offset }, page.per_page(), String::new())
            }
            PageRequest::Cursor { per_page, after } => {
                // The cursor is valid only for the list it was issued for.
                let context = format!(
                    "{}|{}{}|{:?}|{:?}|{:?}",
                    spec.table,
                    if sort.descending { "-" } else { "" },
                    sort.field.name,
                    parent,
                    filter.owner,
                    filter.equals
                );
                let after = match after {
                    Some(cursor) => Some(self.key.decode(cursor, sort.field.kind, &context)?),
                    None => None,
                };
                (Window::After(after), *per_page, context)
            }
        };
        let fetch = i64::from(per_page) + i64::from(matches!(window, Window::After(_)));
        let statement = sql::list(spec, &filter, sort, &window, fetch);
        let mut items: Vec<R> = self
            .perform(spec.labels.list, Target::Read, statement)
            .await?;
        let Scalar(total) = self
            .perform(spec.labels.count, Target::Read, sql::count(spec, &filter))
            .await?;
        let total = total.unwrap_or(0).max(0) as u64;
        let meta = match &query.page {
            PageRequest::Offset(page) => page.meta(total),
            PageRequest::Cursor { .. } => {
                let mut next_cursor = None;
                if items.len() > per_page as usize {
                    items.truncate(per_page as usize);
                    if let Some(last) = items.last() {
                        let value = last
                            .sort_value(sort.field.name)
                            .unwrap_or(Value::Null(sort.field.kind));
                        next_cursor = Some(self.key.encode(&value, last.id(), &context));
                    }
                }
                PageMeta {
                    page: None,
                    per_page,
                    total: Some(total),
                    next_cursor,
                }
            }
        };
        Ok(Paginated { items, meta })
    }

    /// Creates a row owned by the scope's creator.
    pub async fn create(&self, scope: &impl RowScope, input: R::Create) -> Result<R, ApiError> {
        if R::SPEC.parent.is_some() {
            return Err(ApiError::internal(format!(
                "{} lives under a parent: use create_under",
                R::SPEC.name
            )));
        }
        self.insert(scope, None, input).await
    }

    /// Creates a row under `parent`; a parent the scope cannot see is a 404 and nothing is
    /// written (one statement: the insert only happens if the parent is there).
    pub async fn create_under(
        &self,
        scope: &impl RowScope,
        parent: Uuid,
        input: R::Create,
    ) -> Result<R, ApiError> {
        self.insert(scope, Some(parent), input).await
    }

    async fn insert(
        &self,
        scope: &impl RowScope,
        parent: Option<Uuid>,
        input: R::Create,
    ) -> Result<R, ApiError> {
        let row = R::assemble(
            input,
            ServerFields {
                id: Uuid::now_v7(),
                owner: scope.creator(),
                parent,
                now: now(),
            },
        );
        let owner = scope.owner_filter();
        // A row that does not fit its declaration is a bug in the `Resource` impl: a 500 whose
        // log line names the table.
        let mismatch = |error: ColumnCountMismatch| ApiError::internal(error.to_string());
        let statement = match parent {
            None => Self::fixed().insert(row.values()).map_err(mismatch)?,
            Some(parent) => Self::fixed()
                .insert_under(row.values(), parent, owner)
                .map_err(mismatch)?
                .ok_or_else(|| no_parent::<R>())?,
        };
        // The stored row, not the assembled one: what the database keeps is what a GET shows.
        let inserted: Option<R> = self.mutate(R::SPEC.labels.insert, statement).await?;
        match (inserted, parent) {
            (Some(row), _) => Ok(row),
            (None, None) => Err(ApiError::not_found()),
            // Nothing inserted under the parent: it is read-only (409), or missing or not the
            // caller's (404).
            (None, Some(parent)) => match Self::fixed().parent_read_only(parent, owner) {
                Some(statement) => {
                    let Scalar(flag) = self
                        .perform(R::SPEC.labels.get, Target::Write, statement)
                        .await?;
                    if flag == Some(1) {
                        Err(ApiError::new(ErrorCode::Conflict).with_message(format!(
                            "the {} cannot be created: its parent is read-only ({} is set)",
                            R::SPEC.name,
                            R::SPEC
                                .parent
                                .and_then(|p| p.read_only_when)
                                .unwrap_or_default()
                        )))
                    } else {
                        Err(ApiError::not_found())
                    }
                }
                None => Err(ApiError::not_found()),
            },
        }
    }

    /// Replaces every writable field (PUT).
    pub async fn replace(
        &self,
        scope: &impl RowScope,
        id: Uuid,
        input: R::Replace,
        if_match: IfMatch,
    ) -> Result<R, ApiError> {
        self.update(scope, id, input, if_match).await
    }

    /// Sets the fields present in the patch (PATCH).
    pub async fn patch(
        &self,
        scope: &impl RowScope,
        id: Uuid,
        input: R::Patch,
        if_match: IfMatch,
    ) -> Result<R, ApiError> {
        self.update(scope, id, input, if_match).await
    }

    async fn update(
        &self,
        scope: &impl RowScope,
        id: Uuid,
        input: impl Changes,
        if_match: IfMatch,
    ) -> Result<R, ApiError> {
        let expect = Expect {
            owner: scope.owner_filter(),
            version: input.expected_version(),
            if_match: if_match.version(),
        };
        honourable(R::SPEC.version.is_some(), if_match)?;
        if R::SPEC.version.is_some() {
            required_version(expect.version, if_match)?;
        }
        let changes = input.into_changes();
        if changes.is_empty() {
            return self.unchanged(scope, id, expect).await;
        }
        let statement = sql::update(&R::SPEC, id, changes, Value::Timestamp(now()), expect);
        match self
            .mutate::<Option<R>>(R::SPEC.labels.update, statement)
            .await?
        {
            Some(row) => Ok(row),
            None => Err(match self.read_only(id, expect.owner).await {
                Ok(true) => ApiError::new(ErrorCode::Conflict).with_message(format!(
                    "the {} is read-only while {} is set",
                    R::SPEC.name,
                    R::SPEC.read_only_when.unwrap_or_default()
                )),
                Ok(false) => self.explain_miss(id, expect).await,
                Err(error) => error,
            }),
        }
    }

    /// Whether the row is there (for this owner) with its `read_only_when` flag set.
    async fn read_only(&self, id: Uuid, owner: Option<Uuid>) -> Result<bool, ApiError> {
        let Some(statement) = Self::fixed().read_only(id, owner) else {
            return Ok(false);
        };
        let Scalar(flag) = self
            .perform(R::SPEC.labels.get, Target::Write, statement)
            .await?;
        Ok(flag == Some(1))
    }

    /// A patch that sets nothing: no write and no new version (nothing changed), but the same
    /// answers as a write: 404, 409 or 412 when the row is gone or the version stale, else the
    /// current row (from the primary, as after a write).
    async fn unchanged(
        &self,
        scope: &impl RowScope,
        id: Uuid,
        expect: Expect,
    ) -> Result<R, ApiError> {
        let statement = Self::fixed().get(id, scope.owner_filter());
        let row: R = self
            .perform::<Option<R>>(R::SPEC.labels.get, Target::Write, statement)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let current = row.version();
        let stale = |wanted: Option<i64>| wanted.is_some_and(|v| Some(v) != current);
        if current.is_some() && (stale(expect.version) || stale(expect.if_match)) {
            return Err(self.explain_miss(id, expect).await);
        }
        Ok(row)
    }

    /// Deletes a row; with `If-Match`, only at that version.
    pub async fn delete(
        &self,
        scope: &impl RowScope,
        id: Uuid,
        if_match: IfMatch,
    ) -> Result<(), ApiError> {
        honourable(R::SPEC.version.is_some(), if_match)?;
        let expect = Expect {
            owner: scope.owner_filter(),
            version: None,
            if_match: if_match.version(),
        };
        let statement = Self::fixed().delete(id, expect.owner, expect.if_match);
        let deleted = self.mutate(R::SPEC.labels.delete, statement).await;
        match deleted.map_err(still_referenced::<R>)? {
            Affected(0) => Err(self.explain_miss(id, expect).await),
            Affected(_) => Ok(()),
        }
    }

    /// Why a conditional write changed nothing: gone or not yours (404), a stale `If-Match`
    /// (412), or a stale body version (409 with the current version).
    async fn explain_miss(&self, id: Uuid, expect: Expect) -> ApiError {
        let Some(statement) = Self::fixed().current_version(id, expect.owner) else {
            return ApiError::not_found();
        };
        match self
            .perform(R::SPEC.labels.get, Target::Write, statement)
            .await
        {
            Err(error) => error,
            Ok(Scalar(None)) => ApiError::not_found(),
            Ok(Scalar(Some(current))) => {
                if expect.if_match.is_some_and(|v| v != current) {
                    ApiError::new(ErrorCode::PreconditionFailed)
                        .with_message(format!(
                            "If-Match does not match the current version ({current})"
                        ))
                        .with_detail("If-Match", format!("current version is {current}"))
                } else {
                    ApiError::new(ErrorCode::VersionConflict)
                        .with_message(format!(
                            "the {} was changed by someone else; re-read it and retry with version {current}",
                            R::SPEC.name
                        ))
                        .with_detail("version", format!("current version is {current}"))
                }
            }
        }
    }
}
