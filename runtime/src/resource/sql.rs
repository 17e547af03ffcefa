//! The statements of a resource, built from its [`ResourceSpec`]. Identifiers come from the
//! declaration (checked by the macro to be plain snake_case) and are quoted; every value is a
//! `$n` parameter (both SQLite and PostgreSQL read `$n`).

use std::borrow::Cow;
use std::fmt::Write;
use std::sync::OnceLock;

use uuid::Uuid;

use super::{ResourceSpec, SortOrder, Value};

/// A statement and its parameters, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// SQL with `$1..$n`: built here, or borrowed when complete (a custom query's literal, or a
    /// fixed-shape statement built on an earlier call).
    pub sql: Cow<'static, str>,
    /// The parameters.
    pub values: Vec<Value>,
    /// Where a fixed-shape statement keeps its text after the first build.
    slot: Option<&'static OnceLock<String>>,
}

/// The fixed-shape statements of one resource (get, current version, delete, insert), one
/// slot per shape. `#[resource]` gives each resource a static one. The builders below still
/// run on every call — they collect the values, in order — but write the SQL text only the
/// first time, so the text and the values cannot disagree.
#[derive(Debug)]
pub struct StatementCache {
    get: [OnceLock<String>; 2],
    current_version: [OnceLock<String>; 2],
    delete: [OnceLock<String>; 8],
    insert: [OnceLock<String>; 3],
}

impl StatementCache {
    /// An empty cache (for a `static`).
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Self {
            get: [const { OnceLock::new() }; 2],
            current_version: [const { OnceLock::new() }; 2],
            delete: [const { OnceLock::new() }; 8],
            insert: [const { OnceLock::new() }; 3],
        }
    }
}

impl Statement {
    /// A custom query's SQL (already `$n`) with its values.
    pub fn literal(sql: &'static str, values: Vec<Value>) -> Self {
        Self {
            sql: Cow::Borrowed(sql),
            values,
            slot: None,
        }
    }

    fn new() -> Self {
        Self {
            sql: Cow::Owned(String::with_capacity(160)),
            values: Vec::new(),
            slot: None,
        }
    }

    /// A fixed-shape statement: its text comes from `slot` once built.
    fn cached(slot: Option<&'static OnceLock<String>>) -> Self {
        match slot.and_then(|slot| slot.get()) {
            Some(text) => Self {
                sql: Cow::Borrowed(text.as_str()),
                values: Vec::with_capacity(4),
                slot: None,
            },
            None => Self {
                slot,
                ..Self::new()
            },
        }
    }

    /// Stores the text of a first build in its slot.
    fn finish(mut self) -> Self {
        if let (Some(slot), Cow::Owned(text)) = (self.slot.take(), &self.sql) {
            let _ = slot.set(text.clone());
        }
        self
    }

    fn push(&mut self, text: &str) -> &mut Self {
        if let Cow::Owned(sql) = &mut self.sql {
            sql.push_str(text);
        }
        self
    }

    fn ident(&mut self, name: &str) -> &mut Self {
        if let Cow::Owned(sql) = &mut self.sql {
            sql.push('"');
            sql.push_str(name);
            sql.push('"');
        }
        self
    }

    fn bind(&mut self, value: Value) -> &mut Self {
        self.values.push(value);
        if let Cow::Owned(sql) = &mut self.sql {
            let _ = write!(sql, "${}", self.values.len());
        }
        self
    }

    /// `"column" = $n`.
    fn equals(&mut self, column: &str, value: Value) -> &mut Self {
        self.ident(column).push(" = ").bind(value)
    }

    fn columns(&mut self, spec: &ResourceSpec) -> &mut Self {
        for (index, column) in spec.columns.iter().enumerate() {
            if index > 0 {
                self.push(", ");
            }
            self.ident(column);
        }
        self
    }
}

/// Where the rows of a statement may come from.
#[derive(Debug, Clone, Default)]
pub struct Filter {
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

fn by_id(statement: &mut Statement, spec: &ResourceSpec, id: Uuid, owner: Option<Uuid>) {
    where_id(statement, spec.id, spec.owner, id, owner);
}

/// `SELECT <columns> FROM t WHERE id = $1 [AND owner = $2]`.
pub fn get(
    spec: &ResourceSpec,
    cache: Option<&'static StatementCache>,
    id: Uuid,
    owner: Option<Uuid>,
) -> Statement {
    let slot = cache.map(|c| &c.get[usize::from(owner.is_some())]);
    let mut statement = Statement::cached(slot);
    statement
        .push("SELECT ")
        .columns(spec)
        .push(" FROM ")
        .ident(spec.table);
    by_id(&mut statement, spec, id, owner);
    statement.finish()
}

/// `SELECT version FROM t WHERE id = $1 [AND owner = $2]` (after a failed versioned write).
pub fn current_version(
    spec: &ResourceSpec,
    cache: Option<&'static StatementCache>,
    version: &str,
    id: Uuid,
    owner: Option<Uuid>,
) -> Statement {
    let slot = cache.map(|c| &c.current_version[usize::from(owner.is_some())]);
    let mut statement = Statement::cached(slot);
    statement
        .push("SELECT ")
        .ident(version)
        .push(" FROM ")
        .ident(spec.table);
    by_id(&mut statement, spec, id, owner);
    statement.finish()
}

/// `SELECT COUNT(*) FROM t WHERE id = $1 [AND owner = $2] AND flag = TRUE` (0 or 1): whether a
/// row (or a parent) is read-only, after a write that found nothing to change.
pub fn read_only_flag(
    table: &str,
    id_column: &str,
    owner_column: Option<&str>,
    flag: &str,
    id: Uuid,
    owner: Option<Uuid>,
) -> Statement {
    let mut statement = Statement::new();
    statement.push("SELECT COUNT(*) FROM ").ident(table);
    where_id(&mut statement, id_column, owner_column, id, owner);
    statement.push(" AND ").equals(flag, Value::Bool(true));
    statement
}

/// Where a list page starts.
#[derive(Debug, Clone)]
pub enum Window {
    /// `LIMIT limit OFFSET offset`.
    Offset {
        /// Rows to skip.
        offset: i64,
    },
    /// Rows strictly after (or before, descending) this sort value and id.
    After(Option<(Value, Uuid)>),
}

/// One list page: filters, keyset or offset, `ORDER BY sort, id`, `LIMIT`.
pub fn list(
    spec: &ResourceSpec,
    filter: &Filter,
    sort: SortOrder,
    window: &Window,
    limit: i64,
) -> Statement {
    let mut statement = Statement::new();
    statement
        .push("SELECT ")
        .columns(spec)
        .push(" FROM ")
        .ident(spec.table);
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
pub fn count(spec: &ResourceSpec, filter: &Filter) -> Statement {
    let mut statement = Statement::new();
    statement.push("SELECT COUNT(*) FROM ").ident(spec.table);
    conditions(&mut statement, spec, filter);
    statement
}

/// `INSERT INTO t (<columns>) VALUES (...) RETURNING <columns>`; under a parent, `SELECT ...
/// WHERE EXISTS` the parent (owned by `owner`), so that creating under someone else's parent
/// inserts nothing. The row returned is what the database stored: what a create answers.
pub fn insert(
    spec: &ResourceSpec,
    cache: Option<&'static StatementCache>,
    values: Vec<Value>,
    parent: Option<(Uuid, Option<Uuid>)>,
) -> Statement {
    let shape = match parent {
        None => 0,
        Some((_, None)) => 1,
        Some((_, Some(_))) => 2,
    };
    let mut statement = Statement::cached(cache.map(|c| &c.insert[shape]));
    statement
        .push("INSERT INTO ")
        .ident(spec.table)
        .push(" (")
        .columns(spec)
        .push(") ");
    statement.push(if parent.is_some() {
        "SELECT "
    } else {
        "VALUES ("
    });
    for (index, value) in values.into_iter().enumerate() {
        if index > 0 {
            statement.push(", ");
        }
        statement.bind(value);
    }
    if let (Some(spec_parent), Some((parent_id, owner))) = (spec.parent, parent) {
        statement
            .push(" WHERE EXISTS (SELECT 1 FROM ")
            .ident(spec_parent.table);
        where_id(
            &mut statement,
            spec_parent.id,
            spec_parent.owner,
            parent_id,
            owner,
        );
        if let Some(flag) = spec_parent.read_only_when {
            statement.push(" AND ").equals(flag, Value::Bool(false));
        }
    }
    statement.push(") RETURNING ").columns(spec);
    statement.finish()
}

/// `SELECT COUNT(*) FROM parent WHERE id = $1 [AND owner = $2]` (0 or 1).
pub fn parent_exists(spec: &ResourceSpec, parent: Uuid, owner: Option<Uuid>) -> Option<Statement> {
    let spec_parent = spec.parent?;
    let mut statement = Statement::new();
    statement
        .push("SELECT COUNT(*) FROM ")
        .ident(spec_parent.table);
    where_id(
        &mut statement,
        spec_parent.id,
        spec_parent.owner,
        parent,
        owner,
    );
    Some(statement)
}

/// What an update or delete must find to apply.
#[derive(Debug, Clone, Copy, Default)]
pub struct Expect {
    /// The owner (scoped callers).
    pub owner: Option<Uuid>,
    /// The version from the body.
    pub version: Option<i64>,
    /// The version from `If-Match`.
    pub if_match: Option<i64>,
}

fn expectations(statement: &mut Statement, spec: &ResourceSpec, id: Uuid, expect: Expect) {
    by_id(statement, spec, id, expect.owner);
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
pub fn update(
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
    statement.push(" RETURNING ").columns(spec);
    statement
}

/// `DELETE FROM t WHERE id, owner[, version]`.
pub fn delete(
    spec: &ResourceSpec,
    cache: Option<&'static StatementCache>,
    id: Uuid,
    expect: Expect,
) -> Statement {
    let shape = usize::from(expect.owner.is_some())
        + 2 * usize::from(expect.version.is_some())
        + 4 * usize::from(expect.if_match.is_some());
    let mut statement = Statement::cached(cache.map(|c| &c.delete[shape]));
    statement.push("DELETE FROM ").ident(spec.table);
    expectations(&mut statement, spec, id, expect);
    statement.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{Field, Kind, Labels, Pagination, ParentSpec};

    const TITLE: Field = Field {
        name: "title",
        kind: Kind::Text,
    };

    const TASKS: ResourceSpec = ResourceSpec {
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
    };

    #[test]
    fn scoped_get_binds_the_owner() {
        let owner = Uuid::now_v7();
        let statement = get(&TASKS, None, Uuid::nil(), Some(owner));
        assert_eq!(
            statement.sql,
            r#"SELECT "id", "owner_id", "project_id", "title", "version" FROM "tasks" WHERE "id" = $1 AND "owner_id" = $2"#
        );
        assert_eq!(statement.values[1], Value::Uuid(owner));
    }

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
    fn insert_under_parent_requires_the_owned_parent() {
        let statement = insert(
            &TASKS,
            None,
            vec![Value::Int64(1)],
            Some((Uuid::nil(), Some(Uuid::nil()))),
        );
        assert!(statement.sql.ends_with(
            r#"SELECT $1 WHERE EXISTS (SELECT 1 FROM "projects" WHERE "id" = $2 AND "owner_id" = $3) RETURNING "id", "owner_id", "project_id", "title", "version""#
        ));
    }

    #[test]
    fn cached_statements_bind_fresh_values_to_the_same_text() {
        static CACHE: StatementCache = StatementCache::new();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let first = get(&TASKS, Some(&CACHE), a, Some(b));
        let second = get(&TASKS, Some(&CACHE), b, Some(a));
        assert!(matches!(second.sql, Cow::Borrowed(_)), "built once");
        assert_eq!(first.sql, second.sql);
        assert_eq!(second.values, vec![Value::Uuid(b), Value::Uuid(a)]);
        // Another shape has its own slot.
        let unscoped = get(&TASKS, Some(&CACHE), a, None);
        assert_eq!(unscoped.values.len(), 1);
        assert!(!unscoped.sql.contains(r#""owner_id" ="#));
        let delete_plain = delete(&TASKS, Some(&CACHE), a, Expect::default());
        let delete_if_match = delete(
            &TASKS,
            Some(&CACHE),
            a,
            Expect {
                if_match: Some(3),
                ..Expect::default()
            },
        );
        assert_ne!(delete_plain.sql, delete_if_match.sql);
        assert_eq!(delete_if_match.values.len(), 2);
    }

    #[test]
    fn unscoped_reads_have_no_owner_condition() {
        let statement = count(&TASKS, &Filter::default());
        assert_eq!(statement.sql, r#"SELECT COUNT(*) FROM "tasks""#);
    }
}
