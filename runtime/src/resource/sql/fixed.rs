//! The statements of a resource whose text depends only on its declaration and on whether the
//! caller is bound to one owner (get, current version, delete, insert, the parent and
//! read-only checks): [`FixedStatements`] writes each once, the first time the resource is
//! used, into the resource's [`StatementCache`]. A call then runs the same builder over the
//! finished text, which only collects the values ([`Statement::with_text`]): text and values
//! come from one code path, so they cannot disagree.

use std::sync::OnceLock;

use uuid::Uuid;

use super::{ParentSpec, ResourceSpec, Statement, Value, columns, where_id};
use crate::resource::Kind;

/// A row whose values are not one per declared column (`Resource::values` disagrees with
/// `ResourceSpec::columns`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("`{table}`: the row has {values} values for {columns} columns")]
pub(crate) struct ColumnCountMismatch {
    table: &'static str,
    values: usize,
    columns: usize,
}

/// Where a resource's [`FixedStatements`] are built on first use. `#[resource]` gives each
/// resource a `static` one ([`crate::resource::Resource::statements`]).
#[derive(Debug)]
pub struct StatementCache(OnceLock<FixedStatements>);

impl StatementCache {
    /// An empty cache (for a `static`).
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Self(OnceLock::new())
    }

    /// The fixed statements of `spec`, built the first time. A cache belongs to one resource:
    /// the spec of the first call is the one its texts are written from.
    pub(crate) fn get(&'static self, spec: &ResourceSpec) -> &'static FixedStatements {
        self.0.get_or_init(|| FixedStatements::new(*spec))
    }
}

/// The two texts of a statement on one row: for every owner (an unscoped admin, or a table
/// without an owner column) and bound to one owner. A table without an owner column has the
/// same text twice: the builder binds an owner only where there is a column for it.
#[derive(Debug)]
struct ByOwner {
    any: String,
    one: String,
}

impl ByOwner {
    fn build(write: impl Fn(&mut Statement, Option<Uuid>)) -> Self {
        let text = |owner| {
            let mut statement = Statement::new();
            write(&mut statement, owner);
            statement.into_text()
        };
        Self {
            any: text(None),
            one: text(Some(Uuid::nil())),
        }
    }

    /// The finished text for `owner`, ready to collect the values.
    fn statement(&'static self, owner: Option<Uuid>) -> Statement {
        Statement::with_text(if owner.is_some() {
            &self.one
        } else {
            &self.any
        })
    }
}

/// Every fixed statement of one resource, written once from its declaration. The optional ones
/// exist only when the declaration has what they need (a version, a parent, a read-only flag).
#[derive(Debug)]
pub(crate) struct FixedStatements {
    spec: ResourceSpec,
    get: ByOwner,
    current_version: Option<ByOwner>,
    delete: ByOwner,
    delete_at_version: ByOwner,
    insert: String,
    insert_under: Option<ByOwner>,
    parent_exists: Option<ByOwner>,
    read_only: Option<ByOwner>,
    parent_read_only: Option<ByOwner>,
}

/// A placeholder id: the text of a statement does not depend on the id it binds.
const ANY_ID: Uuid = Uuid::nil();

impl FixedStatements {
    fn new(spec: ResourceSpec) -> Self {
        let spec_ref = &spec;
        let placeholders = || vec![Value::Null(Kind::Text); spec_ref.columns.len()];
        let insert = {
            let mut statement = Statement::new();
            write_insert(&mut statement, spec_ref, placeholders(), None);
            statement.into_text()
        };
        Self {
            get: ByOwner::build(|s, owner| write_get(s, spec_ref, ANY_ID, owner)),
            current_version: spec.version.map(|column| {
                ByOwner::build(|s, owner| write_current_version(s, spec_ref, column, ANY_ID, owner))
            }),
            delete: ByOwner::build(|s, owner| write_delete(s, spec_ref, ANY_ID, owner, None)),
            delete_at_version: ByOwner::build(|s, owner| {
                write_delete(s, spec_ref, ANY_ID, owner, Some(0))
            }),
            insert,
            insert_under: spec.parent.map(|_| {
                ByOwner::build(|s, owner| {
                    write_insert(s, spec_ref, placeholders(), Some((ANY_ID, owner)));
                })
            }),
            parent_exists: spec.parent.map(|parent| {
                ByOwner::build(|s, owner| write_parent_exists(s, parent, ANY_ID, owner))
            }),
            read_only: own_flag(spec_ref)
                .map(|flag| ByOwner::build(|s, owner| write_flag(s, flag, ANY_ID, owner))),
            parent_read_only: parent_flag(spec_ref)
                .map(|flag| ByOwner::build(|s, owner| write_flag(s, flag, ANY_ID, owner))),
            spec,
        }
    }

    /// `SELECT <columns> FROM t WHERE id = $1 [AND owner = $2]`.
    pub(crate) fn get(&'static self, id: Uuid, owner: Option<Uuid>) -> Statement {
        let mut statement = self.get.statement(owner);
        write_get(&mut statement, &self.spec, id, owner);
        statement
    }

    /// `SELECT version FROM t WHERE id = $1 [AND owner = $2]` (after a failed versioned
    /// write); `None` for an unversioned resource.
    pub(crate) fn current_version(
        &'static self,
        id: Uuid,
        owner: Option<Uuid>,
    ) -> Option<Statement> {
        let column = self.spec.version?;
        let mut statement = self.current_version.as_ref()?.statement(owner);
        write_current_version(&mut statement, &self.spec, column, id, owner);
        Some(statement)
    }

    /// `DELETE FROM t WHERE id = $1 [AND owner = $2] [AND version = $n]` (the version of an
    /// `If-Match`, on a versioned resource).
    pub(crate) fn delete(
        &'static self,
        id: Uuid,
        owner: Option<Uuid>,
        if_match: Option<i64>,
    ) -> Statement {
        let texts = if if_match.is_some() {
            &self.delete_at_version
        } else {
            &self.delete
        };
        let mut statement = texts.statement(owner);
        write_delete(&mut statement, &self.spec, id, owner, if_match);
        statement
    }

    /// `INSERT INTO t (<columns>) VALUES (...) RETURNING <columns>`: the row returned is what
    /// the database stored, what a create answers.
    pub(crate) fn insert(
        &'static self,
        values: Vec<Value>,
    ) -> Result<Statement, ColumnCountMismatch> {
        self.check_count(&values)?;
        let mut statement = Statement::with_text(&self.insert);
        write_insert(&mut statement, &self.spec, values, None);
        Ok(statement)
    }

    /// The text of an insert has one `$n` per column: a row with another number of values
    /// (a hand-written `Resource::values`) is refused here, not sent to the database.
    fn check_count(&self, values: &[Value]) -> Result<(), ColumnCountMismatch> {
        if values.len() == self.spec.columns.len() {
            Ok(())
        } else {
            Err(ColumnCountMismatch {
                table: self.spec.table,
                values: values.len(),
                columns: self.spec.columns.len(),
            })
        }
    }

    /// `INSERT INTO t (<columns>) SELECT ... WHERE EXISTS` the parent (owned by `owner`, and not
    /// read-only), so that creating under someone else's parent inserts nothing; `None` for a
    /// resource without a parent.
    pub(crate) fn insert_under(
        &'static self,
        values: Vec<Value>,
        parent: Uuid,
        owner: Option<Uuid>,
    ) -> Result<Option<Statement>, ColumnCountMismatch> {
        self.check_count(&values)?;
        let Some(texts) = self.insert_under.as_ref() else {
            return Ok(None);
        };
        let mut statement = texts.statement(owner);
        write_insert(&mut statement, &self.spec, values, Some((parent, owner)));
        Ok(Some(statement))
    }

    /// `SELECT COUNT(*) FROM parent WHERE id = $1 [AND owner = $2]` (0 or 1); `None` for a
    /// resource without a parent.
    pub(crate) fn parent_exists(
        &'static self,
        parent: Uuid,
        owner: Option<Uuid>,
    ) -> Option<Statement> {
        let spec_parent = self.spec.parent?;
        let mut statement = self.parent_exists.as_ref()?.statement(owner);
        write_parent_exists(&mut statement, spec_parent, parent, owner);
        Some(statement)
    }

    /// `SELECT COUNT(*) FROM t WHERE id = $1 [AND owner = $2] AND flag = TRUE` (0 or 1):
    /// whether the row is read-only, after a write that found nothing to change; `None`
    /// without `read_only_when`.
    pub(crate) fn read_only(&'static self, id: Uuid, owner: Option<Uuid>) -> Option<Statement> {
        let flag = own_flag(&self.spec)?;
        let mut statement = self.read_only.as_ref()?.statement(owner);
        write_flag(&mut statement, flag, id, owner);
        Some(statement)
    }

    /// The same for the parent, after an insert under it found nothing; `None` when the parent
    /// has no `read_only_when` (or there is no parent).
    pub(crate) fn parent_read_only(
        &'static self,
        parent: Uuid,
        owner: Option<Uuid>,
    ) -> Option<Statement> {
        let flag = parent_flag(&self.spec)?;
        let mut statement = self.parent_read_only.as_ref()?.statement(owner);
        write_flag(&mut statement, flag, parent, owner);
        Some(statement)
    }
}

fn write_get(statement: &mut Statement, spec: &ResourceSpec, id: Uuid, owner: Option<Uuid>) {
    statement.push("SELECT ");
    columns(statement, spec);
    statement.push(" FROM ").ident(spec.table);
    where_id(statement, spec.id, spec.owner, id, owner);
}

fn write_current_version(
    statement: &mut Statement,
    spec: &ResourceSpec,
    column: &str,
    id: Uuid,
    owner: Option<Uuid>,
) {
    statement
        .push("SELECT ")
        .ident(column)
        .push(" FROM ")
        .ident(spec.table);
    where_id(statement, spec.id, spec.owner, id, owner);
}

fn write_delete(
    statement: &mut Statement,
    spec: &ResourceSpec,
    id: Uuid,
    owner: Option<Uuid>,
    if_match: Option<i64>,
) {
    statement.push("DELETE FROM ").ident(spec.table);
    where_id(statement, spec.id, spec.owner, id, owner);
    if let (Some(column), Some(version)) = (spec.version, if_match) {
        statement
            .push(" AND ")
            .equals(column, Value::Int64(version));
    }
}

fn write_insert(
    statement: &mut Statement,
    spec: &ResourceSpec,
    values: Vec<Value>,
    parent: Option<(Uuid, Option<Uuid>)>,
) {
    statement.push("INSERT INTO ").ident(spec.table).push(" (");
    columns(statement, spec);
    statement.push(") ");
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
            statement,
            spec_parent.id,
            spec_parent.owner,
            parent_id,
            owner,
        );
        if let Some(flag) = spec_parent.read_only_when {
            statement.push(" AND ").equals(flag, Value::Bool(false));
        }
    }
    statement.push(") RETURNING ");
    columns(statement, spec);
}

fn write_parent_exists(
    statement: &mut Statement,
    parent: ParentSpec,
    id: Uuid,
    owner: Option<Uuid>,
) {
    statement.push("SELECT COUNT(*) FROM ").ident(parent.table);
    where_id(statement, parent.id, parent.owner, id, owner);
}

/// A `read_only_when` flag and the table it is on.
#[derive(Debug, Clone, Copy)]
struct Flag {
    table: &'static str,
    id: &'static str,
    owner: Option<&'static str>,
    column: &'static str,
}

/// The resource's own `read_only_when`.
fn own_flag(spec: &ResourceSpec) -> Option<Flag> {
    Some(Flag {
        table: spec.table,
        id: spec.id,
        owner: spec.owner,
        column: spec.read_only_when?,
    })
}

/// The parent's `read_only_when`.
fn parent_flag(spec: &ResourceSpec) -> Option<Flag> {
    let parent = spec.parent?;
    Some(Flag {
        table: parent.table,
        id: parent.id,
        owner: parent.owner,
        column: parent.read_only_when?,
    })
}

/// `SELECT COUNT(*) FROM t WHERE id = $1 [AND owner = $2] AND flag = TRUE`.
fn write_flag(statement: &mut Statement, flag: Flag, id: Uuid, owner: Option<Uuid>) {
    statement.push("SELECT COUNT(*) FROM ").ident(flag.table);
    where_id(statement, flag.id, flag.owner, id, owner);
    statement
        .push(" AND ")
        .equals(flag.column, Value::Bool(true));
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::resource::sql::tests::TASKS;

    /// The statement a builder writes from scratch for these arguments.
    fn built(write: impl Fn(&mut Statement)) -> Statement {
        let mut statement = Statement::new();
        write(&mut statement);
        statement
    }

    #[test]
    fn scoped_get_binds_the_owner() {
        static CACHE: StatementCache = StatementCache::new();
        let owner = Uuid::now_v7();
        let statement = CACHE.get(&TASKS).get(Uuid::nil(), Some(owner));
        assert_eq!(
            statement.sql,
            r#"SELECT "id", "owner_id", "project_id", "title", "version" FROM "tasks" WHERE "id" = $1 AND "owner_id" = $2"#
        );
        assert_eq!(statement.values[1], Value::Uuid(owner));
    }

    #[test]
    fn insert_under_parent_requires_the_owned_parent() {
        let statement = built(|s| {
            write_insert(
                s,
                &TASKS,
                vec![Value::Int64(1)],
                Some((Uuid::nil(), Some(Uuid::nil()))),
            )
        });
        assert!(statement.sql.ends_with(
            r#"SELECT $1 WHERE EXISTS (SELECT 1 FROM "projects" WHERE "id" = $2 AND "owner_id" = $3) RETURNING "id", "owner_id", "project_id", "title", "version""#
        ));
    }

    #[test]
    fn cached_statements_bind_fresh_values_to_the_same_text() {
        static CACHE: StatementCache = StatementCache::new();
        let fixed = CACHE.get(&TASKS);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let first = fixed.get(a, Some(b));
        let second = fixed.get(b, Some(a));
        assert!(matches!(second.sql, Cow::Borrowed(_)), "built once");
        assert_eq!(first.sql, second.sql);
        assert_eq!(second.values, vec![Value::Uuid(b), Value::Uuid(a)]);
        // Another shape has its own text.
        let unscoped = fixed.get(a, None);
        assert_eq!(unscoped.values.len(), 1);
        assert!(!unscoped.sql.contains(r#""owner_id" ="#));
        let delete_plain = fixed.delete(a, None, None);
        let delete_if_match = fixed.delete(a, None, Some(3));
        assert_ne!(delete_plain.sql, delete_if_match.sql);
        assert_eq!(delete_if_match.values.len(), 2);
    }

    /// Every fixed text is what the builder writes for the same arguments, whatever the
    /// declaration (owned or not, parent or not, read-only flags or not) and the scope: the
    /// text written once and the values bound on each call cannot disagree.
    #[test]
    fn every_fixed_text_is_the_built_one() {
        let unowned = ResourceSpec {
            owner: None,
            version: None,
            parent: None,
            ..TASKS
        };
        let flagged = ResourceSpec {
            read_only_when: Some("archived"),
            parent: TASKS.parent.map(|parent| ParentSpec {
                read_only_when: Some("archived"),
                owner: None,
                ..parent
            }),
            ..TASKS
        };
        for spec in [TASKS, unowned, flagged] {
            let fixed: &'static FixedStatements = Box::leak(Box::new(FixedStatements::new(spec)));
            let values = || vec![Value::Int64(7); spec.columns.len()];
            let (id, parent) = (Uuid::now_v7(), Uuid::now_v7());
            for owner in [None, Some(Uuid::now_v7())] {
                let same = |cached: Option<Statement>, fresh: Statement| {
                    if let Some(cached) = cached {
                        assert_eq!(cached, fresh, "{}", fresh.sql);
                    }
                };
                same(
                    Some(fixed.get(id, owner)),
                    built(|s| write_get(s, &spec, id, owner)),
                );
                if let Some(column) = spec.version {
                    same(
                        fixed.current_version(id, owner),
                        built(|s| write_current_version(s, &spec, column, id, owner)),
                    );
                }
                for if_match in [None, Some(4)] {
                    same(
                        Some(fixed.delete(id, owner, if_match)),
                        built(|s| write_delete(s, &spec, id, owner, if_match)),
                    );
                }
                same(
                    Some(
                        fixed
                            .insert(values())
                            .unwrap_or_else(|error| panic!("{error}")),
                    ),
                    built(|s| write_insert(s, &spec, values(), None)),
                );
                same(
                    fixed
                        .insert_under(values(), parent, owner)
                        .unwrap_or_else(|error| panic!("{error}")),
                    built(|s| write_insert(s, &spec, values(), Some((parent, owner)))),
                );
                if let Some(spec_parent) = spec.parent {
                    same(
                        fixed.parent_exists(parent, owner),
                        built(|s| write_parent_exists(s, spec_parent, parent, owner)),
                    );
                }
                if let Some(flag) = own_flag(&spec) {
                    same(
                        fixed.read_only(id, owner),
                        built(|s| write_flag(s, flag, id, owner)),
                    );
                }
                if let Some(flag) = parent_flag(&spec) {
                    same(
                        fixed.parent_read_only(parent, owner),
                        built(|s| write_flag(s, flag, parent, owner)),
                    );
                }
            }
            assert_eq!(
                fixed.current_version(id, None).is_some(),
                spec.version.is_some()
            );
            assert_eq!(
                fixed
                    .insert_under(values(), parent, None)
                    .is_ok_and(|statement| statement.is_some()),
                spec.parent.is_some()
            );
            assert_eq!(
                fixed.read_only(id, None).is_some(),
                spec.read_only_when.is_some()
            );
        }
    }

    #[test]
    fn a_row_with_the_wrong_number_of_values_is_refused_not_sent() {
        let fixed: &'static FixedStatements = Box::leak(Box::new(FixedStatements::new(TASKS)));
        let columns = TASKS.columns.len();
        for count in [0, columns - 1, columns + 1] {
            let values = vec![Value::Int64(7); count];
            let refused = fixed.insert(values.clone());
            assert_eq!(
                refused.as_ref().err().map(ToString::to_string),
                Some(format!(
                    "`{}`: the row has {count} values for {columns} columns",
                    TASKS.table
                ))
            );
            assert!(fixed.insert_under(values, Uuid::now_v7(), None).is_err());
        }
    }
}
