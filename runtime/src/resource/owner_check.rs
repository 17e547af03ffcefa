//! Const functions the `#[repository]` expansion evaluates to check a `#[query]` against the
//! tables resources declare: the macro parses the SQL and finds which tables it touches and
//! which columns `:owner` constrains or sets; whether a table is owned, and by which column,
//! is in the resource's `SPEC` (another macro call), so the comparison happens here, at
//! compile time, in const assertions spanned at the SQL literal. Not a public API.

use super::ResourceSpec;

/// A table a resource declares, its owner column, and the tables a write to it changes too.
#[derive(Debug, Clone, Copy)]
pub struct Declared {
    table: &'static str,
    owner: Option<&'static str>,
    cascades: &'static [&'static str],
}

impl Declared {
    /// Its table.
    pub fn table(&self) -> &'static str {
        self.table
    }

    /// Its `cascades`.
    pub fn cascades(&self) -> &'static [&'static str] {
        self.cascades
    }
}

/// The table of a resource.
pub const fn resource(spec: &ResourceSpec) -> Option<Declared> {
    Some(Declared {
        table: spec.table,
        owner: spec.owner,
        cascades: spec.cascades,
    })
}

/// The table of a resource's parent, when it has one.
pub const fn parent(spec: &ResourceSpec) -> Option<Declared> {
    match spec.parent {
        Some(parent) => Some(Declared {
            table: parent.table,
            owner: parent.owner,
            cascades: parent.cascades,
        }),
        None => None,
    }
}

/// Whether a custom write of `written` through the store of `anchor` changes a table the
/// store's own invalidation does not cover (its table and its `cascades`): if not, the
/// expansion makes no call to `Store::invalidate` at all.
pub const fn writes_beyond(anchor: &ResourceSpec, written: &[&str]) -> bool {
    let mut index = 0;
    while index < written.len() {
        if !same(written[index], anchor.table) {
            return true;
        }
        index += 1;
    }
    false
}

/// ASCII-case-insensitive equality (unquoted SQL names fold; SQLite ignores case).
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut index = 0;
    while index < a.len() {
        if !a[index].eq_ignore_ascii_case(&b[index]) {
            return false;
        }
        index += 1;
    }
    true
}

const fn find(known: &[Option<Declared>], table: &str) -> Option<Declared> {
    let mut index = 0;
    while index < known.len() {
        if let Some(declared) = known[index]
            && same(declared.table, table)
        {
            return Some(declared);
        }
        index += 1;
    }
    None
}

/// Whether a resource among `known` declares `table`.
pub const fn declared(known: &[Option<Declared>], table: &str) -> bool {
    find(known, table).is_some()
}

/// Whether `table` is unowned (or unknown, which `declared` reports).
pub const fn unowned(known: &[Option<Declared>], table: &str) -> bool {
    match find(known, table) {
        Some(declared) => declared.owner.is_none(),
        None => true,
    }
}

/// Whether every column `:owner` constrains or sets on `table` is its owner column.
pub const fn only_owner_column(known: &[Option<Declared>], table: &str, columns: &[&str]) -> bool {
    let Some(declared) = find(known, table) else {
        return true;
    };
    let mut index = 0;
    while index < columns.len() {
        match declared.owner {
            Some(owner) if same(owner, columns[index]) => {}
            _ => return false,
        }
        index += 1;
    }
    true
}

/// Whether `table` is unowned, or `:owner` constrains (or sets) its owner column.
/// None of `columns` is the owner column of `table` (true for an unowned or unknown table:
/// other checks speak for those).
pub const fn not_owner_column(known: &[Option<Declared>], table: &str, columns: &[&str]) -> bool {
    // Owned: exactly when no column is the owner's (what `owner_bound` asks, negated).
    unowned(known, table) || !owner_bound(known, table, columns)
}

pub const fn owner_bound(known: &[Option<Declared>], table: &str, columns: &[&str]) -> bool {
    let Some(declared) = find(known, table) else {
        return true;
    };
    let Some(owner) = declared.owner else {
        return true;
    };
    let mut index = 0;
    while index < columns.len() {
        if same(owner, columns[index]) {
            return true;
        }
        index += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[Option<Declared>] = &[
        Some(Declared {
            table: "tasks",
            owner: Some("owner_id"),
            cascades: &[],
        }),
        Some(Declared {
            table: "labels",
            owner: None,
            cascades: &[],
        }),
        None,
    ];

    #[test]
    fn lookups() {
        assert!(declared(KNOWN, "TASKS") && declared(KNOWN, "labels"));
        assert!(!declared(KNOWN, "rampart_users"));
        assert!(unowned(KNOWN, "labels") && !unowned(KNOWN, "tasks"));
        assert!(only_owner_column(KNOWN, "tasks", &["owner_id"]));
        assert!(!not_owner_column(KNOWN, "tasks", &["title", "OWNER_ID"]));
        assert!(not_owner_column(KNOWN, "tasks", &["title", "done"]));
        assert!(not_owner_column(KNOWN, "labels", &["owner_id"]));
        assert!(!only_owner_column(KNOWN, "tasks", &["owner_id", "title"]));
        assert!(!only_owner_column(KNOWN, "labels", &["owner_id"]));
        assert!(owner_bound(KNOWN, "tasks", &["owner_id"]));
        assert!(!owner_bound(KNOWN, "tasks", &[]));
        assert!(owner_bound(KNOWN, "labels", &[]));
    }
}
