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

use walk::Walk;

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

mod walk;

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
mod tests;
