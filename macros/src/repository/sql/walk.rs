//! The walk over a parsed statement: which tables it touches, how, and under which condition.

use super::*;

/// A name a condition can qualify a column with, within one SELECT/UPDATE/DELETE.
struct Relation {
    key: String,
    /// The index in `uses` of a real table; `None` for a CTE or a derived table.
    table: Option<usize>,
}

pub(super) struct Walk<'a> {
    pub(super) owner: Option<&'a str>,
    pub(super) uses: Vec<TableUse>,
    pub(super) writes: bool,
    pub(super) owner_seen: usize,
    pub(super) relations: Vec<String>,
}

impl Walk<'_> {
    pub(super) fn statement(
        &mut self,
        statement: &Statement,
        ctes: &[String],
    ) -> Result<(), String> {
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
                "INSERT INTO a table function is not supported by the owner check\nhelp: insert into a table: `INSERT INTO t (a, b) VALUES (...)`".to_owned(),
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
