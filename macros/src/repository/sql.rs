//! The owner check of a `#[query]`, on the parsed statement (sqlparser), never on its text.
//!
//! The analysis finds every table the statement names, how it touches it (read, update,
//! delete, insert, replace) and which of its columns are compared with `:owner` in a top-level
//! `AND` of the condition that applies to it (or, for an INSERT, set from `:owner`). Whether a
//! table is owned, and by which column, is declared on `#[resource]`, another macro call, so
//! the expansion turns each finding into a const assertion rustc evaluates against the
//! resource's `SPEC` (see `expand.rs`). What can be decided here is decided here: a statement
//! that does not parse, several statements, `:owner` anywhere but a constraint or an insert
//! value, a construct the walk does not read.
//!
//! Which condition applies to a table: the `WHERE` of its own SELECT/UPDATE/DELETE, and for a
//! table joined with `JOIN`/`INNER JOIN`/`LEFT JOIN`, also that join's `ON` (it limits which of
//! that table's rows take part). An `ON` never constrains the other side, and `RIGHT`/`FULL`
//! joins constrain through `WHERE` only. A subquery, a CTE body and the SELECT of an
//! INSERT ... SELECT are each checked on their own: an outer condition does not cover them.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Assignment, AssignmentTarget, BinaryOperator, Delete, Expr, FromTable, Insert, JoinConstraint,
    JoinOperator, ObjectName, ObjectNamePart, OnConflictAction, OnInsert, Query, Select,
    SelectItem, SetExpr, SqliteOnConflict, Statement, TableFactor, TableObject, TableWithJoins,
    Update, UpdateTableFromKind, Value, Visit, Visitor,
};
use sqlparser::dialect::{Dialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

/// How a statement touches a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Access {
    Read,
    Update,
    Delete,
    Insert,
    /// `INSERT OR REPLACE`, `REPLACE INTO`, `UPDATE OR REPLACE`: deletes conflicting rows,
    /// whoever owns them.
    Replace,
    /// `SET col = ...` of an UPDATE (or `ON CONFLICT DO UPDATE`): the columns are the ones set,
    /// and none may be the owner column (that would hand the row to someone else).
    Assign,
}

impl Access {
    pub(crate) fn verb(self) -> &'static str {
        match self {
            Access::Read => "reads",
            Access::Update => "updates",
            Access::Delete => "deletes from",
            Access::Insert => "inserts into",
            Access::Replace => "replaces rows of",
            Access::Assign => "sets columns of",
        }
    }
}

/// One table the statement touches, and the columns `:owner` constrains (or, for an insert,
/// sets) on it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TableUse {
    pub(crate) table: String,
    pub(crate) access: Access,
    pub(crate) owner_columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Analysis {
    /// Whether the statement writes (or locks): it must run on the primary.
    pub(crate) writes: bool,
    /// Every table use, sorted, without duplicates.
    pub(crate) tables: Vec<TableUse>,
}

const OWNER_ELSEWHERE: &str = "`:owner` is used outside an owner constraint: it may appear only as `<owner column> = :owner` in a top-level AND of the WHERE (or a JOIN's ON) of the table it constrains, or as the owner column's value in an INSERT\nhelp: compare the owner column with `:owner` at the top level of the WHERE, e.g. `WHERE id = :id AND owner_id = :owner`";

/// Parses `sql` (named parameters already replaced by `$n`; `owner` is the placeholder bound
/// from the scope, when there is one) under PostgreSQL's and SQLite's grammars and analyses
/// every parse: the same statement runs on either backend, so each reading must pass.
pub(crate) fn analyse(sql: &str, owner: Option<&str>) -> Result<Analysis, String> {
    let dialects: [&dyn Dialect; 2] = [&PostgreSqlDialect {}, &SQLiteDialect {}];
    let mut merged: Option<Analysis> = None;
    for dialect in dialects {
        // A comment is where the two grammars read differently (PostgreSQL nests `/* */`,
        // SQLite does not), so text one backend ignores could run on the other: refused.
        let tokens = Tokenizer::new(dialect, sql)
            .tokenize()
            .map_err(|error| unparseable(&error.to_string()))?;
        // PostgreSQL's own lexer ends an operator at `--` or `/*` and reads a comment from
        // there; sqlparser keeps `&--` as one operator. And `[...]`/backtick identifiers are
        // SQLite's alone: text inside them is an identifier to one grammar and SQL to the other.
        let hides_text = |token: &Token| match token {
            Token::CustomBinaryOperator(op) => op.contains("--") || op.contains("/*"),
            Token::Word(word) => matches!(word.quote_style, Some('[' | '`')),
            _ => false,
        };
        if let Some(token) = tokens.iter().find(|token| hides_text(token)) {
            return Err(format!(
                "`{token}` reads differently in PostgreSQL and SQLite (an operator holding `--` or `/*`, or `[...]`/backtick quoting)\nhelp: use spaces around operators and double quotes for identifiers"
            ));
        }
        if tokens.iter().any(|token| {
            matches!(
                token,
                Token::Whitespace(
                    Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_)
                )
            )
        }) {
            return Err("a `#[query]` holds no SQL comments: PostgreSQL and SQLite do not read them alike, so the owner check could see another statement than one backend runs\nhelp: put the comment in the method's doc comment".to_owned());
        }
        // The statement runs on either backend, so it must parse (and pass) under both.
        let statements =
            Parser::parse_sql(dialect, sql).map_err(|error| unparseable(&error.to_string()))?;
        let analysis = analyse_statements(&statements, owner)?;
        merged = Some(match merged {
            None => analysis,
            Some(mut all) => {
                all.writes |= analysis.writes;
                all.tables.extend(analysis.tables);
                all.tables.sort();
                all.tables.dedup();
                all
            }
        });
    }
    merged.ok_or_else(|| unparseable(""))
}

fn unparseable(error: &str) -> String {
    // sqlparser's "sql parser error: " prefix says nothing, and its " at Line: 1, Column: N"
    // counts in the statement after `:name` became `$n`, not in the string as written.
    let error = error.strip_prefix("sql parser error: ").unwrap_or(error);
    let error = error.find(" at Line: ").map_or(error, |end| &error[..end]);
    format!(
        "this SQL does not parse: {error}\nhelp: write one SELECT, INSERT, UPDATE or DELETE that both PostgreSQL and SQLite accept"
    )
}

fn analyse_statements(statements: &[Statement], owner: Option<&str>) -> Result<Analysis, String> {
    let [statement] = statements else {
        return Err(
            "a `#[query]` is exactly one statement\nhelp: split it into one method per statement, and run them in a transaction"
                .to_owned(),
        );
    };
    let mut walk = Walk {
        owner,
        uses: Vec::new(),
        writes: false,
        owner_seen: 0,
        relations: Vec::new(),
    };
    walk.statement(statement, &[])?;

    // Safety nets: every `:owner` was classified, and every relation the parser knows of was
    // resolved by the walk (a construct it does not read is refused, not skipped).
    let mut census = Census {
        owner,
        owners: 0,
        relations: Vec::new(),
        forbidden: None,
    };
    let _ = statement.visit(&mut census);
    if let Some(function) = census.forbidden {
        return Err(format!(
            "`{function}` runs SQL given as text or reads by name what the owner check cannot see\nhelp: name the tables in the statement itself"
        ));
    }
    if census.owners != walk.owner_seen {
        return Err(OWNER_ELSEWHERE.to_owned());
    }
    let mut resolved = walk.relations.clone();
    for relation in census.relations {
        match resolved.iter().position(|r| *r == relation) {
            Some(index) => {
                resolved.swap_remove(index);
            }
            None => {
                return Err(format!(
                    "`{relation}` is named where the owner check cannot follow it\nhelp: name tables in FROM, JOIN, USING, UPDATE, DELETE FROM or INSERT INTO"
                ));
            }
        }
    }
    let mut tables = walk.uses;
    tables.sort();
    tables.dedup();
    Ok(Analysis {
        writes: walk.writes,
        tables,
    })
}

/// Counts what the parser holds, independently of the walk.
struct Census<'a> {
    owner: Option<&'a str>,
    owners: usize,
    relations: Vec<String>,
    /// The first function called that reaches around the check.
    forbidden: Option<String>,
}

impl Visitor for Census<'_> {
    type Break = ();
    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        self.relations
            .push(table_name(relation).unwrap_or_else(|_| relation.to_string()));
        ControlFlow::Continue(())
    }
    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if is_owner(expr, self.owner) {
            self.owners += 1;
        }
        if let Expr::Function(function) = expr {
            let name = function
                .name
                .0
                .last()
                .and_then(ObjectNamePart::as_ident)
                .map(|part| part.value.to_lowercase())
                .unwrap_or_default();
            if reaches_around_the_check(&name) {
                self.forbidden.get_or_insert(name);
            }
        }
        ControlFlow::Continue(())
    }
}

/// Functions that run SQL given as text, read tables or files by name, or change the session:
/// what they touch is invisible to the owner check (`query_to_xml('SELECT ... FROM
/// rampart_users')` names no table), so a `#[query]` may not call them.
fn reaches_around_the_check(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "query_to_xml",
        "query_to_xmlschema",
        "query_to_xml_and_xmlschema",
        "cursor_to_xml",
        "cursor_to_xmlschema",
        "crosstab",
        "crosstab2",
        "crosstab3",
        "crosstab4",
        "connectby",
        "ts_stat",
        "ts_rewrite",
        "set_config",
        "current_setting",
        "load_extension",
        "readfile",
        "writefile",
        "edit",
        "fts3_tokenizer",
    ];
    const PREFIXES: &[&str] = &[
        "pg_",
        "lo_",
        "dblink",
        "table_to_xml",
        "schema_to_xml",
        "database_to_xml",
    ];
    EXACT.contains(&name) || PREFIXES.iter().any(|prefix| name.starts_with(prefix))
}

/// The queries directly nested in a node (subqueries, derived tables), not their own nested
/// ones: each is walked in turn, with its own scope.
#[derive(Default)]
struct Nested {
    depth: usize,
    queries: Vec<Query>,
}

impl Visitor for Nested {
    type Break = ();
    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if self.depth == 0 {
            self.queries.push(query.clone());
        }
        self.depth += 1;
        ControlFlow::Continue(())
    }
    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.depth = self.depth.saturating_sub(1);
        ControlFlow::Continue(())
    }
}

fn nested<V: Visit>(node: &V) -> Vec<Query> {
    let mut nested = Nested::default();
    let _ = node.visit(&mut nested);
    nested.queries
}

fn is_owner(expr: &Expr, owner: Option<&str>) -> bool {
    match (expr, owner) {
        (Expr::Value(value), Some(owner)) => {
            matches!(&value.value, Value::Placeholder(p) if p == owner)
        }
        _ => false,
    }
}

/// An identifier as the database sees it: unquoted folds to lower case.
fn ident(ident: &sqlparser::ast::Ident) -> String {
    match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_ascii_lowercase(),
    }
}

fn table_name(name: &ObjectName) -> Result<String, String> {
    match name.0.as_slice() {
        [ObjectNamePart::Identifier(part)] => Ok(ident(part)),
        _ => Err(format!(
            "`{name}`: name the table without a schema\nhelp: write the table name as `#[resource(table = \"...\")]` declares it"
        )),
    }
}

/// The column a possibly qualified name (`t.owner_id`) names, as the database folds it.
fn column_name(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(ObjectNamePart::as_ident)
        .map(ident)
        .unwrap_or_default()
}

/// A name a condition can qualify a column with, within one SELECT/UPDATE/DELETE.
struct Relation {
    key: String,
    /// The index in `uses` of a real table; `None` for a CTE or a derived table.
    table: Option<usize>,
}

struct Walk<'a> {
    owner: Option<&'a str>,
    uses: Vec<TableUse>,
    writes: bool,
    owner_seen: usize,
    relations: Vec<String>,
}

impl Walk<'_> {
    fn statement(&mut self, statement: &Statement, ctes: &[String]) -> Result<(), String> {
        match statement {
            Statement::Query(query) => self.query(query, ctes),
            Statement::Insert(insert) => self.insert(insert, ctes),
            Statement::Update(update) => self.update(update, ctes),
            Statement::Delete(delete) => self.delete(delete, ctes),
            _ => Err("a `#[query]` is one SELECT, INSERT, UPDATE or DELETE\nhelp: schema changes belong in migrations".to_owned()),
        }
    }

    fn query(&mut self, query: &Query, ctes: &[String]) -> Result<(), String> {
        let mut scope = ctes.to_vec();
        if let Some(with) = &query.with {
            if with.recursive {
                scope.extend(with.cte_tables.iter().map(|cte| ident(&cte.alias.name)));
            }
            for cte in &with.cte_tables {
                self.query(&cte.query, &scope)?;
                if !with.recursive {
                    scope.push(ident(&cte.alias.name));
                }
            }
        }
        if !query.locks.is_empty() {
            // `SELECT ... FOR UPDATE/SHARE` takes row locks: primary only.
            self.writes = true;
        }
        self.set_expr(&query.body, &scope)?;
        for nested in nested(&query.order_by)
            .into_iter()
            .chain(nested(&query.limit_clause))
            .chain(nested(&query.fetch))
        {
            self.query(&nested, &scope)?;
        }
        Ok(())
    }

    fn set_expr(&mut self, body: &SetExpr, ctes: &[String]) -> Result<(), String> {
        match body {
            SetExpr::Select(select) => self.select(select, ctes),
            SetExpr::Query(query) => self.query(query, ctes),
            SetExpr::SetOperation { left, right, .. } => {
                self.set_expr(left, ctes)?;
                self.set_expr(right, ctes)
            }
            SetExpr::Values(values) => self.nested_in(values, ctes),
            SetExpr::Insert(statement)
            | SetExpr::Update(statement)
            | SetExpr::Delete(statement) => {
                // A data-modifying CTE: the whole statement writes.
                self.writes = true;
                self.statement(statement, ctes)
            }
            SetExpr::Merge(_) | SetExpr::Table(_) => Err(format!(
                "`{body}` is not supported by the owner check\nhelp: write a SELECT, INSERT, UPDATE or DELETE"
            )),
        }
    }

    fn nested_in<V: Visit>(&mut self, node: &V, ctes: &[String]) -> Result<(), String> {
        for query in nested(node) {
            self.query(&query, ctes)?;
        }
        Ok(())
    }

    fn add_use(&mut self, table: String, access: Access) -> usize {
        self.relations.push(table.clone());
        self.uses.push(TableUse {
            table,
            access,
            owner_columns: Vec::new(),
        });
        self.uses.len() - 1
    }

    /// A FROM/JOIN item: a table (a use), a CTE or a derived table (a name only).
    fn factor(
        &mut self,
        factor: &TableFactor,
        access: Access,
        ctes: &[String],
        relations: &mut Vec<Relation>,
    ) -> Result<(), String> {
        match factor {
            TableFactor::Table {
                name, alias, args, ..
            } if args.is_none() => {
                let table = table_name(name)?;
                let key = alias.as_ref().map_or(table.clone(), |a| ident(&a.name));
                let index = if ctes.contains(&table) && access == Access::Read {
                    self.relations.push(table);
                    None
                } else {
                    Some(self.add_use(table, access))
                };
                relations.push(Relation { key, table: index });
                Ok(())
            }
            TableFactor::Derived { alias, .. } => {
                let key = alias.as_ref().map(|a| ident(&a.name)).unwrap_or_default();
                relations.push(Relation { key, table: None });
                Ok(())
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias: None,
            } => self.join_tree(table_with_joins, ctes, relations),
            other => Err(format!(
                "`{other}` is not supported by the owner check\nhelp: select from tables, CTEs and subqueries"
            )),
        }
    }

    /// `a JOIN b ON ... LEFT JOIN c ON ...`: each joined table, and its `ON` when it limits
    /// that table's rows.
    fn join_tree(
        &mut self,
        item: &TableWithJoins,
        ctes: &[String],
        relations: &mut Vec<Relation>,
    ) -> Result<(), String> {
        self.factor(&item.relation, Access::Read, ctes, relations)?;
        for join in &item.joins {
            self.factor(&join.relation, Access::Read, ctes, relations)?;
            let on = match &join.join_operator {
                JoinOperator::Join(JoinConstraint::On(on))
                | JoinOperator::Inner(JoinConstraint::On(on))
                | JoinOperator::Left(JoinConstraint::On(on))
                | JoinOperator::LeftOuter(JoinConstraint::On(on)) => Some(on),
                _ => None,
            };
            if let Some(on) = on {
                let joined = relations.len() - 1;
                self.constrain(on, relations, Some(joined))?;
            }
        }
        Ok(())
    }

    /// Records `x.col = :owner` conjuncts of the top-level AND of `condition` on the tables
    /// they name (only on `relations[only]` for a join's ON).
    fn constrain(
        &mut self,
        condition: &Expr,
        relations: &[Relation],
        only: Option<usize>,
    ) -> Result<(), String> {
        match condition {
            Expr::Nested(inner) => self.constrain(inner, relations, only),
            Expr::BinaryOp {
                left,
                op: BinaryOperator::And,
                right,
            } => {
                self.constrain(left, relations, only)?;
                self.constrain(right, relations, only)
            }
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Eq,
                right,
            } => {
                let column = if is_owner(right, self.owner) {
                    left
                } else if is_owner(left, self.owner) {
                    right
                } else {
                    return Ok(());
                };
                let (qualifier, column) = match &**column {
                    Expr::Identifier(column) => (None, ident(column)),
                    Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
                        (Some(ident(&parts[0])), ident(&parts[1]))
                    }
                    _ => return Ok(()),
                };
                let index = match qualifier {
                    Some(qualifier) => relations.iter().position(|r| r.key == qualifier),
                    None if relations.len() == 1 => Some(0),
                    None if relations.is_empty() => None,
                    None => {
                        return Err(format!(
                            "`{condition}`: with several tables, say which one `:owner` constrains\nhelp: qualify the column, e.g. `t.{column} = :owner`"
                        ));
                    }
                };
                let Some(index) = index else { return Ok(()) };
                if only.is_some_and(|only| only != index) {
                    return Ok(());
                }
                if let Some(table) = relations[index].table {
                    self.uses[table].owner_columns.push(column);
                }
                self.owner_seen += 1;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn select(&mut self, select: &Select, ctes: &[String]) -> Result<(), String> {
        if select.into.is_some() {
            return Err(
                "`SELECT ... INTO` creates a table\nhelp: use INSERT ... SELECT".to_owned(),
            );
        }
        let mut relations = Vec::new();
        for item in &select.from {
            self.join_tree(item, ctes, &mut relations)?;
        }
        if let Some(condition) = &select.selection {
            self.constrain(condition, &relations, None)?;
        }
        self.nested_in(select, ctes)
    }

    fn assignments(
        &mut self,
        table: Option<String>,
        assignments: &[Assignment],
        ctes: &[String],
    ) -> Result<(), String> {
        if let Some(table) = table {
            let mut columns = Vec::new();
            for assignment in assignments {
                match &assignment.target {
                    AssignmentTarget::ColumnName(name) => columns.push(column_name(name)),
                    AssignmentTarget::Tuple(names) => columns.extend(names.iter().map(column_name)),
                }
            }
            self.uses.push(TableUse {
                table,
                access: Access::Assign,
                owner_columns: columns,
            });
        }
        for assignment in assignments {
            if contains_owner(&assignment.value, self.owner) {
                let target = match &assignment.target {
                    AssignmentTarget::ColumnName(name) => name.to_string(),
                    AssignmentTarget::Tuple(names) => format!("{names:?}"),
                };
                return Err(format!(
                    "`SET {target} = ...` writes `:owner`: that moves rows between owners\nhelp: `:owner` only constrains (`WHERE owner_id = :owner`); the owner column is set when a row is created"
                ));
            }
            self.nested_in(&assignment.value, ctes)?;
        }
        Ok(())
    }

    fn update(&mut self, update: &Update, ctes: &[String]) -> Result<(), String> {
        self.writes = true;
        if !update.table.joins.is_empty() {
            return Err("UPDATE ... JOIN is not supported by the owner check\nhelp: use `UPDATE t SET ... FROM other WHERE ...`".to_owned());
        }
        let mut relations = Vec::new();
        self.factor(&update.table.relation, Access::Update, ctes, &mut relations)?;
        if let Some(Some(index)) = relations.first().map(|r| r.table)
            && matches!(update.or, Some(SqliteOnConflict::Replace))
        {
            let table = self.uses[index].table.clone();
            self.uses.push(TableUse {
                table,
                access: Access::Replace,
                owner_columns: Vec::new(),
            });
        }
        if let Some(UpdateTableFromKind::BeforeSet(from) | UpdateTableFromKind::AfterSet(from)) =
            &update.from
        {
            for item in from {
                self.join_tree(item, ctes, &mut relations)?;
            }
        }
        let target = relations
            .first()
            .and_then(|r| r.table)
            .map(|index| self.uses[index].table.clone());
        self.assignments(target, &update.assignments, ctes)?;
        if let Some(condition) = &update.selection {
            self.constrain(condition, &relations, None)?;
            self.nested_in(condition, ctes)?;
        }
        for item in update.from.iter() {
            self.nested_in(item, ctes)?;
        }
        self.nested_in(&update.table, ctes)?;
        self.nested_in(&update.returning, ctes)
    }

    fn delete(&mut self, delete: &Delete, ctes: &[String]) -> Result<(), String> {
        self.writes = true;
        let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
        let ([target], true) = (from.as_slice(), delete.tables.is_empty()) else {
            return Err("DELETE from several tables is not supported by the owner check\nhelp: delete from one table, with `USING` for the others".to_owned());
        };
        if !target.joins.is_empty() {
            return Err("DELETE ... JOIN is not supported by the owner check\nhelp: use `DELETE FROM t USING other WHERE ...`".to_owned());
        }
        let mut relations = Vec::new();
        self.factor(&target.relation, Access::Delete, ctes, &mut relations)?;
        for item in delete.using.iter().flatten() {
            self.join_tree(item, ctes, &mut relations)?;
        }
        if let Some(condition) = &delete.selection {
            self.constrain(condition, &relations, None)?;
        }
        self.nested_in(&delete.selection, ctes)?;
        self.nested_in(&delete.using, ctes)?;
        self.nested_in(&delete.from, ctes)?;
        self.nested_in(&delete.returning, ctes)
    }

    fn insert(&mut self, insert: &Insert, ctes: &[String]) -> Result<(), String> {
        self.writes = true;
        let TableObject::TableName(name) = &insert.table else {
            return Err(
                "INSERT INTO a table function is not supported by the owner check".to_owned(),
            );
        };
        let table = table_name(name)?;
        let target = self.add_use(table.clone(), Access::Insert);
        if insert.replace_into || matches!(insert.or, Some(SqliteOnConflict::Replace)) {
            self.uses.push(TableUse {
                table: table.clone(),
                access: Access::Replace,
                owner_columns: Vec::new(),
            });
        }
        if !insert.assignments.is_empty() {
            return Err("`INSERT ... SET` is not supported by the owner check\nhelp: write `INSERT INTO t (a, b) VALUES (...)`".to_owned());
        }
        let columns: Vec<String> = insert.columns.iter().map(column_name).collect();
        // SQLite keeps the first of a repeated column and PostgreSQL refuses the statement: the
        // position of `:owner` would not tell which value the owner column gets.
        for (index, column) in columns.iter().enumerate() {
            if columns[..index]
                .iter()
                .any(|c| c.eq_ignore_ascii_case(column))
            {
                return Err(format!(
                    "`{column}` is named twice in this INSERT's columns\nhelp: name each column once"
                ));
            }
        }
        if let Some(source) = &insert.source {
            // The owner column's value, exactly `:owner`, per row (VALUES) or per selected column
            // (INSERT ... SELECT); the rest of the source is checked as usual.
            let null = Expr::Value(Value::Null.into());
            let items: Vec<Vec<&Expr>> = match &*source.body {
                SetExpr::Values(values) => values
                    .rows
                    .iter()
                    .map(|row| row.content.iter().collect())
                    .collect(),
                SetExpr::Select(select) => {
                    // A wildcard is one item here and many columns in the database, so the
                    // position of `:owner` would not say which column it fills.
                    if select.projection.iter().any(|item| {
                        matches!(
                            item,
                            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
                        )
                    }) {
                        return Err("an INSERT ... SELECT names the values it selects: `*` would hide which column each one fills\nhelp: select one expression per inserted column".to_owned());
                    }
                    vec![
                        select
                            .projection
                            .iter()
                            .map(|item| match item {
                                SelectItem::UnnamedExpr(expr)
                                | SelectItem::ExprWithAlias { expr, .. } => Some(expr),
                                _ => None,
                            })
                            .map(|expr| expr.unwrap_or(&null))
                            .collect::<Vec<_>>(),
                    ]
                }
                _ => Vec::new(),
            };
            let mut positions: Option<Vec<usize>> = None;
            for row in items {
                let mut here = Vec::new();
                for (position, expr) in row.into_iter().enumerate() {
                    if is_owner(expr, self.owner) {
                        let Some(column) = columns.get(position) else {
                            return Err("an INSERT that binds `:owner` names its columns\nhelp: write `INSERT INTO t (id, owner_id, ...) VALUES (:id, :owner, ...)`".to_owned());
                        };
                        self.uses[target].owner_columns.push(column.clone());
                        self.owner_seen += 1;
                        here.push(position);
                    }
                }
                // Every row sets the same columns from `:owner`: one row that does not would
                // insert for someone else.
                match &positions {
                    None => positions = Some(here),
                    Some(first) if *first != here => {
                        return Err("every row of a multi-row INSERT sets the owner column from `:owner`\nhelp: write `:owner` in the owner column of each row".to_owned());
                    }
                    Some(_) => {}
                }
            }
            self.query(source, ctes)?;
        }
        match &insert.on {
            None => {}
            Some(OnInsert::OnConflict(conflict)) => {
                if let OnConflictAction::DoUpdate(update) = &conflict.action {
                    // The conflicting row may be anyone's: the update needs its own constraint.
                    let index = self.add_use(table.clone(), Access::Update);
                    self.relations.pop();
                    let key = insert
                        .table_alias
                        .as_ref()
                        .map_or(table.clone(), |a| ident(&a.alias));
                    let relations = vec![
                        Relation {
                            key,
                            table: Some(index),
                        },
                        Relation {
                            key: "excluded".to_owned(),
                            table: None,
                        },
                    ];
                    self.assignments(Some(table.clone()), &update.assignments, ctes)?;
                    if let Some(condition) = &update.selection {
                        self.constrain(condition, &relations, None)?;
                        self.nested_in(condition, ctes)?;
                    }
                }
            }
            Some(other) => {
                return Err(format!(
                    "`{other}` is not supported by the owner check\nhelp: use `ON CONFLICT (...) DO UPDATE SET ... WHERE t.owner_id = :owner`"
                ));
            }
        }
        self.nested_in(&insert.returning, ctes)
    }
}

fn contains_owner(expr: &Expr, owner: Option<&str>) -> bool {
    let mut census = Census {
        owner,
        owners: 0,
        relations: Vec::new(),
        forbidden: None,
    };
    let _ = expr.visit(&mut census);
    census.owners > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uses(sql: &str) -> Vec<(String, Access, Vec<String>)> {
        match analyse(sql, Some("$9")) {
            Ok(analysis) => analysis
                .tables
                .into_iter()
                .map(|u| (u.table, u.access, u.owner_columns))
                .collect(),
            Err(error) => panic!("{sql}: {error}"),
        }
    }

    fn refused(sql: &str) -> String {
        match analyse(sql, Some("$9")) {
            Ok(analysis) => panic!("{sql}: accepted as {analysis:?}"),
            Err(error) => error,
        }
    }

    fn writes(sql: &str) -> bool {
        analyse(sql, Some("$9"))
            .map(|a| a.writes)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn t(table: &str, access: Access, columns: &[&str]) -> (String, Access, Vec<String>) {
        (
            table.to_owned(),
            access,
            columns.iter().map(|c| (*c).to_owned()).collect(),
        )
    }

    #[test]
    fn holes_found_in_review_are_refused() {
        // A second row for someone else.
        assert!(
            refused("INSERT INTO tasks (id, owner_id, title) VALUES ($1, $9, $2), ($3, $4, $2)")
                .contains("every row")
        );
        // A wildcard shifts which column `:owner` fills.
        assert!(
            refused(
                "INSERT INTO tasks (id, owner_id, title) SELECT *, $9 FROM (SELECT $1 AS a, $2 AS b) v"
            )
            .contains("`*`")
        );
        // Text one grammar reads as a comment and the other as SQL.
        assert!(
            refused("SELECT * FROM tasks WHERE owner_id = $9 /* /* */ OR 1 = 1 -- */")
                .contains("comments")
        );
        assert!(refused("SELECT * FROM tasks WHERE owner_id = $9 -- note").contains("comments"));
        // SQL given as text, and files and settings by name.
        for call in [
            "SELECT query_to_xml('SELECT password_hash FROM rampart_users', true, false, '')",
            "SELECT table_to_xml('tasks', true, false, '')",
            "SELECT pg_read_file('/etc/passwd')",
            "SELECT set_config('role', 'postgres', false)",
        ] {
            assert!(refused(call).contains("owner check cannot see"), "{call}");
        }
        // Found by the second review: an operator PostgreSQL ends at `--`, SQLite-only quoting,
        // text-executing full-text functions, a repeated insert column, a quoted function name.
        assert!(
            refused("SELECT * FROM (SELECT ARRAY[1 &--1] FROM tasks WHERE owner_id = $9) t")
                .contains("reads differently")
        );
        assert!(refused("SELECT [x] FROM tasks WHERE owner_id = $9").contains("reads differently"));
        assert!(
            refused("SELECT CAST(ts_stat('SELECT 1') AS TEXT) FROM tasks WHERE owner_id = $9")
                .contains("owner check cannot see")
        );
        assert!(
            refused("INSERT INTO tasks (id, owner_id, owner_id) VALUES ($1, $2, $9)")
                .contains("named twice")
        );
        assert!(
            refused("SELECT \"LOAD_EXTENSION\"('x') FROM tasks WHERE owner_id = $9")
                .contains("owner check cannot see")
        );
        // The columns an UPDATE sets are recorded, for the owner-column assertion.
        assert!(
            uses("UPDATE tasks SET owner_id = $2 WHERE id = $1 AND owner_id = $9").contains(&t(
                "tasks",
                Access::Assign,
                &["owner_id"]
            ))
        );
        // Every row consistent is fine.
        assert_eq!(
            uses("INSERT INTO tasks (id, owner_id) VALUES ($1, $9), ($2, $9)"),
            vec![t("tasks", Access::Insert, &["owner_id", "owner_id"])]
        );
    }

    #[test]
    fn a_top_level_and_constrains_and_an_or_does_not() {
        assert_eq!(
            uses("SELECT * FROM tasks WHERE id = $1 AND owner_id = $9"),
            vec![t("tasks", Access::Read, &["owner_id"])]
        );
        assert_eq!(
            uses("SELECT * FROM tasks WHERE (id = $1 AND (owner_id = $9))"),
            vec![t("tasks", Access::Read, &["owner_id"])]
        );
        // Under an OR, `:owner` is not a constraint: refused outright.
        assert!(
            refused("SELECT * FROM tasks WHERE id = $1 OR owner_id = $9")
                .contains("outside an owner constraint")
        );
        assert!(
            refused("SELECT * FROM tasks WHERE owner_id = $9 AND (x = 1 OR owner_id = $9)")
                .contains("outside")
        );
        // `OR 1 = 1` without `:owner`: no constraint recorded.
        assert_eq!(
            uses("SELECT * FROM tasks WHERE id = $1 OR 1 = 1"),
            vec![t("tasks", Access::Read, &[])]
        );
        assert!(refused("SELECT * FROM tasks WHERE (owner_id = $9 OR 1 = 1)").contains("outside"));
    }

    #[test]
    fn updates_deletes_and_their_writes_of_owner() {
        assert_eq!(
            uses("UPDATE tasks SET done = TRUE WHERE id = $1 AND owner_id = $9"),
            vec![
                t("tasks", Access::Update, &["owner_id"]),
                t("tasks", Access::Assign, &["done"])
            ]
        );
        assert!(refused("UPDATE tasks SET owner_id = $9 WHERE id = $1").contains("SET owner_id"));
        assert_eq!(
            uses("DELETE FROM tasks WHERE owner_id = $9 AND id = $1"),
            vec![t("tasks", Access::Delete, &["owner_id"])]
        );
        assert_eq!(
            uses("DELETE FROM tasks WHERE id IN (SELECT id FROM projects WHERE owner_id = $9)"),
            vec![
                t("projects", Access::Read, &["owner_id"]),
                t("tasks", Access::Delete, &[])
            ]
        );
    }

    #[test]
    fn joins_constrain_per_table() {
        assert_eq!(
            uses(
                "SELECT t.id FROM tasks t JOIN projects p ON p.id = t.project_id AND p.owner_id = $9 WHERE t.owner_id = $9"
            ),
            vec![
                t("projects", Access::Read, &["owner_id"]),
                t("tasks", Access::Read, &["owner_id"])
            ]
        );
        // An ON constrains the joined table only.
        assert!(refused("SELECT t.id FROM tasks t JOIN projects p ON p.id = t.project_id AND t.owner_id = $9").contains("outside"));
        // Unqualified with two tables: say which.
        assert!(refused("SELECT t.id FROM tasks t JOIN projects p ON p.id = t.project_id WHERE owner_id = $9").contains("qualify"));
        assert_eq!(
            uses("SELECT t.id FROM tasks t, projects p WHERE t.owner_id = $9"),
            vec![
                t("projects", Access::Read, &[]),
                t("tasks", Access::Read, &["owner_id"])
            ]
        );
    }

    #[test]
    fn ctes_subqueries_and_insert_select_are_checked_on_their_own() {
        assert_eq!(
            uses(
                "WITH mine AS (SELECT * FROM tasks WHERE owner_id = $9) SELECT * FROM mine WHERE id = $1"
            ),
            vec![t("tasks", Access::Read, &["owner_id"])]
        );
        assert_eq!(
            uses("WITH mine AS (SELECT * FROM tasks) SELECT * FROM mine WHERE owner_id = $9"),
            vec![t("tasks", Access::Read, &[])]
        );
        // A CTE named like a table does not hide the table from its own body.
        assert_eq!(
            uses("WITH tasks AS (SELECT * FROM tasks) SELECT * FROM tasks"),
            vec![t("tasks", Access::Read, &[])]
        );
        assert_eq!(
            uses(
                "SELECT * FROM tasks WHERE owner_id = $9 AND project_id IN (SELECT id FROM projects)"
            ),
            vec![
                t("projects", Access::Read, &[]),
                t("tasks", Access::Read, &["owner_id"])
            ]
        );
        assert_eq!(
            uses("SELECT (SELECT count(*) FROM notes) FROM tasks WHERE owner_id = $9"),
            vec![
                t("notes", Access::Read, &[]),
                t("tasks", Access::Read, &["owner_id"])
            ]
        );
        assert_eq!(
            uses(
                "INSERT INTO tasks (id, owner_id, title) SELECT $1, $9, title FROM templates WHERE owner_id = $9"
            ),
            vec![
                t("tasks", Access::Insert, &["owner_id"]),
                t("templates", Access::Read, &["owner_id"])
            ]
        );
        assert_eq!(
            uses("INSERT INTO tasks (id, owner_id, title) SELECT $1, $9, title FROM projects"),
            vec![
                t("projects", Access::Read, &[]),
                t("tasks", Access::Insert, &["owner_id"])
            ]
        );
    }

    #[test]
    fn inserts_record_the_columns_set_from_owner() {
        assert_eq!(
            uses("INSERT INTO tasks (id, owner_id, title) VALUES ($1, $9, $2)"),
            vec![t("tasks", Access::Insert, &["owner_id"])]
        );
        assert_eq!(
            uses("INSERT INTO tasks (id, owner_id, title) VALUES ($1, $9, $9)"),
            vec![t("tasks", Access::Insert, &["owner_id", "title"])]
        );
        assert_eq!(
            uses("INSERT INTO tasks (id, title) VALUES ($1, $2)"),
            vec![t("tasks", Access::Insert, &[])]
        );
        assert!(
            refused("INSERT INTO tasks (id, title) VALUES ($1, 'x' || $9)").contains("outside")
        );
        assert_eq!(
            uses("INSERT OR REPLACE INTO tasks (id, owner_id) VALUES ($1, $9)"),
            vec![
                t("tasks", Access::Insert, &["owner_id"]),
                t("tasks", Access::Replace, &[])
            ]
        );
        assert_eq!(
            uses(
                "INSERT INTO tasks (id, owner_id) VALUES ($1, $9) ON CONFLICT (id) DO UPDATE SET title = excluded.title"
            ),
            vec![
                t("tasks", Access::Update, &[]),
                t("tasks", Access::Insert, &["owner_id"]),
                t("tasks", Access::Assign, &["title"])
            ]
        );
        assert_eq!(
            uses(
                "INSERT INTO tasks (id, owner_id) VALUES ($1, $9) ON CONFLICT (id) DO UPDATE SET title = excluded.title WHERE tasks.owner_id = $9"
            ),
            vec![
                t("tasks", Access::Update, &["owner_id"]),
                t("tasks", Access::Insert, &["owner_id"]),
                t("tasks", Access::Assign, &["title"])
            ]
        );
    }

    #[test]
    fn what_writes_goes_to_the_primary() {
        assert!(!writes("SELECT * FROM tasks WHERE owner_id = $9"));
        assert!(writes("SELECT * FROM tasks WHERE owner_id = $9 FOR UPDATE"));
        assert!(writes(
            "WITH gone AS (DELETE FROM tasks WHERE owner_id = $9 RETURNING id) SELECT count(*) FROM gone"
        ));
        assert!(writes("UPDATE tasks SET done = TRUE WHERE owner_id = $9"));
        assert!(writes("INSERT INTO tasks (id, owner_id) VALUES ($1, $9)"));
    }

    #[test]
    fn what_is_refused_before_any_table_lookup() {
        assert!(refused("SELEC * FROM tasks").contains("does not parse"));
        assert!(refused("SELECT 1; SELECT 2").contains("exactly one statement"));
        assert!(refused("DROP TABLE tasks").contains("one SELECT"));
        assert!(
            refused("SELECT * FROM public.tasks WHERE owner_id = $9").contains("without a schema")
        );
        assert!(refused("SELECT * FROM generate_series(1, 3)").contains("not supported"));
        // A comment is refused outright (the two grammars do not read comments alike).
        assert!(
            refused("SELECT * FROM tasks WHERE id = $1 -- AND owner_id = $9").contains("comments")
        );
    }
}
