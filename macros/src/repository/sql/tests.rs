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
    assert!(
        refused(
            "SELECT t.id FROM tasks t JOIN projects p ON p.id = t.project_id AND t.owner_id = $9"
        )
        .contains("outside")
    );
    // Unqualified with two tables: say which.
    assert!(
        refused(
            "SELECT t.id FROM tasks t JOIN projects p ON p.id = t.project_id WHERE owner_id = $9"
        )
        .contains("qualify")
    );
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
        uses("SELECT * FROM tasks WHERE owner_id = $9 AND project_id IN (SELECT id FROM projects)"),
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
    assert!(refused("INSERT INTO tasks (id, title) VALUES ($1, 'x' || $9)").contains("outside"));
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
    assert!(refused("SELECT * FROM public.tasks WHERE owner_id = $9").contains("without a schema"));
    assert!(refused("SELECT * FROM generate_series(1, 3)").contains("not supported"));
    // A comment is refused outright (the two grammars do not read comments alike).
    assert!(refused("SELECT * FROM tasks WHERE id = $1 -- AND owner_id = $9").contains("comments"));
}
