//! The statements of a resource, built from its [`ResourceSpec`]. Identifiers come from the
//! declaration (checked by the macro to be plain snake_case) and are quoted; every value is a
//! `$n` parameter (both SQLite and PostgreSQL read `$n`).
//!
//! The statements whose text is fixed by the declaration are written once ([`FixedStatements`]); the
//! ones whose text follows the request (a list's filters and window, an update's changes) are
//! written here on each call.

mod fixed;

use uuid::Uuid;

// Only the cache is public (`#[resource]` emits one per resource); the statements themselves
// are run by the store alone.
pub(crate) use crate::db::Statement;
pub use fixed::StatementCache;
pub(crate) use fixed::{ColumnCountMismatch, FixedStatements};

use super::{ParentSpec, ResourceSpec, SortOrder, Value};

/// `"a", "b", "c"`: every column of the resource, in declaration order.
fn columns(statement: &mut Statement, spec: &ResourceSpec) {
    for (index, column) in spec.columns.iter().enumerate() {
        if index > 0 {
            statement.push(", ");
        }
        statement.ident(column);
    }
}

/// Where the rows of a statement may come from.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    /// The owner, on an owned resource read through a [`super::Scope`].
    pub owner: Option<Uuid>,
    /// The parent, on a resource listed under its parent.
    pub parent: Option<Uuid>,
    /// `column = value` conditions.
    pub equals: Vec<(&'static str, Value)>,
}

fn conditions(statement: &mut Statement, spec: &ResourceSpec, filter: &Filter) -> bool {
    let mut any = false;
    let mut and = |statement: &mut Statement| {
        statement.push(if any { " AND " } else { " WHERE " });
        any = true;
    };
    if let (Some(column), Some(owner)) = (spec.owner, filter.owner) {
        and(statement);
        statement.equals(column, Value::Uuid(owner));
    }
    if let (Some(parent), Some(id)) = (spec.parent, filter.parent) {
        and(statement);
        statement.equals(parent.column, Value::Uuid(id));
    }
    for (column, value) in &filter.equals {
        and(statement);
        statement.equals(column, value.clone());
    }
    any
}

/// ` WHERE id = $n [AND owner = $m]`: the owner is bound when the table has an owner column
/// and the caller is scoped. Used for the resource's rows and for its parent's.
fn where_id(
    statement: &mut Statement,
    id_column: &str,
    owner_column: Option<&str>,
    id: Uuid,
    owner: Option<Uuid>,
) {
    statement.push(" WHERE ").equals(id_column, Value::Uuid(id));
    if let (Some(column), Some(owner)) = (owner_column, owner) {
        statement.push(" AND ").equals(column, Value::Uuid(owner));
    }
}

/// Where a list page starts.
#[derive(Debug, Clone)]
pub(crate) enum Window {
    /// `LIMIT limit OFFSET offset`.
    Offset {
        /// Rows to skip.
        offset: i64,
    },
    /// Rows strictly after (or before, descending) this sort value and id.
    After(Option<(Value, Uuid)>),
}

/// One list page: filters, keyset or offset, `ORDER BY sort, id`, `LIMIT`.
pub(crate) fn list(
    spec: &ResourceSpec,
    filter: &Filter,
    sort: SortOrder,
    window: &Window,
    limit: i64,
) -> Statement {
    let mut statement = Statement::new();
    statement.push("SELECT ");
    columns(&mut statement, spec);
    statement.push(" FROM ").ident(spec.table);
    let any = conditions(&mut statement, spec, filter);
    let direction = if sort.descending { " DESC" } else { " ASC" };
    if let Window::After(Some((value, id))) = window {
        statement.push(if any { " AND " } else { " WHERE " });
        let comparison = if sort.descending { " < " } else { " > " };
        if sort.field.name == spec.id {
            statement
                .ident(spec.id)
                .push(comparison)
                .bind(Value::Uuid(*id));
        } else {
            statement
                .push("(")
                .ident(sort.field.name)
                .push(", ")
                .ident(spec.id)
                .push(")")
                .push(comparison)
                .push("(")
                .bind(value.clone())
                .push(", ")
                .bind(Value::Uuid(*id))
                .push(")");
        }
    }
    statement.push(" ORDER BY ");
    if sort.field.name != spec.id {
        statement.ident(sort.field.name).push(direction).push(", ");
    }
    statement.ident(spec.id).push(direction);
    statement.push(" LIMIT ").bind(Value::Int64(limit));
    if let Window::Offset { offset } = window {
        statement.push(" OFFSET ").bind(Value::Int64(*offset));
    }
    statement
}

/// `SELECT COUNT(*) FROM t WHERE <filter>`: the exact size of the filtered set.
pub(crate) fn count(spec: &ResourceSpec, filter: &Filter) -> Statement {
    let mut statement = Statement::new();
    statement.push("SELECT COUNT(*) FROM ").ident(spec.table);
    conditions(&mut statement, spec, filter);
    statement
}

/// What an update or delete must find to apply.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Expect {
    /// The owner (scoped callers).
    pub owner: Option<Uuid>,
    /// The version from the body.
    pub version: Option<i64>,
    /// The version from `If-Match`.
    pub if_match: Option<i64>,
}

fn expectations(statement: &mut Statement, spec: &ResourceSpec, id: Uuid, expect: Expect) {
    where_id(statement, spec.id, spec.owner, id, expect.owner);
    if let Some(column) = spec.version {
        for version in [expect.version, expect.if_match].into_iter().flatten() {
            statement
                .push(" AND ")
                .equals(column, Value::Int64(version));
        }
    }
}

/// `UPDATE t SET <changes>, version = version + 1, updated_at = now WHERE id, owner, version
/// RETURNING <columns>`: check and bump in one statement.
pub(crate) fn update(
    spec: &ResourceSpec,
    id: Uuid,
    changes: Vec<(&'static str, Value)>,
    now: Value,
    expect: Expect,
) -> Statement {
    let mut statement = Statement::new();
    statement.push("UPDATE ").ident(spec.table).push(" SET ");
    let mut first = true;
    let mut comma = |statement: &mut Statement| {
        if !first {
            statement.push(", ");
        }
        first = false;
    };
    for (column, value) in changes {
        comma(&mut statement);
        statement.equals(column, value);
    }
    if let Some(version) = spec.version {
        comma(&mut statement);
        statement
            .ident(version)
            .push(" = ")
            .ident(version)
            .push(" + 1");
    }
    if let Some(updated_at) = spec.updated_at {
        comma(&mut statement);
        statement.equals(updated_at, now);
    }
    if first {
        // Nothing to set on an unversioned resource without timestamps: a no-op write.
        statement.ident(spec.id).push(" = ").ident(spec.id);
    }
    expectations(&mut statement, spec, id, expect);
    if let Some(flag) = spec.read_only_when {
        statement.push(" AND ").equals(flag, Value::Bool(false));
    }
    statement.push(" RETURNING ");
    columns(&mut statement, spec);
    statement
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{Field, Kind, Labels, Pagination};

    pub(super) const TITLE: Field = Field {
        name: "title",
        kind: Kind::Text,
    };

    pub(super) const TASKS: ResourceSpec = ResourceSpec {
        name: "task",
        table: "tasks",
        columns: &["id", "owner_id", "project_id", "title", "version"],
        id: "id",
        owner: Some("owner_id"),
        version: Some("version"),
        parent: Some(ParentSpec {
            column: "project_id",
            table: "projects",
            id: "id",
            owner: Some("owner_id"),
            read_only_when: None,
            cascades: &[],
        }),
        read_only_when: None,
        created_at: None,
        updated_at: None,
        writable: &["title"],
        filters: &[TITLE],
        sorts: &[TITLE],
        default_sort: SortOrder {
            field: TITLE,
            descending: false,
        },
        pagination: Pagination::Cursor,
        labels: Labels {
            get: "tasks.get",
            list: "tasks.list",
            count: "tasks.count",
            insert: "tasks.insert",
            update: "tasks.update",
            delete: "tasks.delete",
        },
        cascades: &[],
        left_out_of_json: &[],
    };

    #[test]
    fn keyset_page_compares_sort_key_and_id() {
        let filter = Filter {
            owner: Some(Uuid::nil()),
            parent: Some(Uuid::nil()),
            equals: vec![("title", Value::Text("x'); DROP TABLE tasks; --".into()))],
        };
        let sort = SortOrder {
            field: TITLE,
            descending: true,
        };
        let window = Window::After(Some((Value::Text("m".into()), Uuid::nil())));
        let statement = list(&TASKS, &filter, sort, &window, 21);
        assert_eq!(
            statement.sql,
            r#"SELECT "id", "owner_id", "project_id", "title", "version" FROM "tasks" WHERE "owner_id" = $1 AND "project_id" = $2 AND "title" = $3 AND ("title", "id") < ($4, $5) ORDER BY "title" DESC, "id" DESC LIMIT $6"#
        );
        assert_eq!(statement.values.len(), 6);
    }

    #[test]
    fn versioned_update_checks_and_bumps_in_one_statement() {
        let expect = Expect {
            owner: Some(Uuid::nil()),
            version: Some(3),
            if_match: None,
        };
        let statement = update(
            &TASKS,
            Uuid::nil(),
            vec![("title", Value::Text("t".into()))],
            Value::Null(Kind::Timestamp),
            expect,
        );
        assert_eq!(
            statement.sql,
            r#"UPDATE "tasks" SET "title" = $1, "version" = "version" + 1 WHERE "id" = $2 AND "owner_id" = $3 AND "version" = $4 RETURNING "id", "owner_id", "project_id", "title", "version""#
        );
    }

    #[test]
    fn unscoped_reads_have_no_owner_condition() {
        let statement = count(&TASKS, &Filter::default());
        assert_eq!(statement.sql, r#"SELECT COUNT(*) FROM "tasks""#);
    }
}
