// Owner-scoped SQL the parser accepts: joins, CTEs, subqueries, INSERT ... VALUES/SELECT,
// ON CONFLICT with its own constraint, a data-modifying CTE, and admin and unowned queries.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "folders", owner = owner_id)]
struct Folder {
    #[resource(id)]
    id: Uuid,
    owner_id: Uuid,
    name: String,
}

#[resource(table = "notes", owner = owner_id)]
struct Note {
    #[resource(id)]
    id: Uuid,
    owner_id: Uuid,
    #[resource(parent = Folder)]
    folder_id: Uuid,
    title: String,
}

#[resource(table = "labels")]
struct Label {
    #[resource(id)]
    id: Uuid,
    text: String,
}

#[repository(Note, tables(Label))]
trait NoteRepo {
    /// A join: each owned table constrained, one in WHERE, one in its ON.
    #[query(
        "SELECT n.id, n.owner_id, n.folder_id, n.title FROM notes n \
         JOIN folders f ON f.id = n.folder_id AND f.owner_id = :owner \
         WHERE n.owner_id = :owner AND f.name = :name"
    )]
    async fn in_folder(&self, scope: &Scope, name: String) -> ApiResult<Vec<Note>>;

    /// A CTE constrained in its body, a subquery on an unowned table.
    #[query(
        "WITH mine AS (SELECT id, owner_id, folder_id, title FROM notes WHERE owner_id = :owner) \
         SELECT id, owner_id, folder_id, title FROM mine \
         WHERE title IN (SELECT text FROM labels WHERE text LIKE :prefix)"
    )]
    async fn labelled(&self, scope: &Scope, prefix: String) -> ApiResult<Vec<Note>>;

    /// INSERT ... SELECT: the owner from `:owner`, the SELECT constrained.
    #[query(
        "INSERT INTO notes (id, owner_id, folder_id, title) \
         SELECT :id, :owner, f.id, f.name FROM folders f WHERE f.id = :folder AND f.owner_id = :owner"
    )]
    async fn from_folder(&self, scope: &Scope, id: Uuid, folder: Uuid) -> ApiResult<u64>;

    /// INSERT ... VALUES with an upsert that only touches the caller's row.
    #[query(
        "INSERT INTO notes (id, owner_id, folder_id, title) VALUES (:id, :owner, :folder, :title) \
         ON CONFLICT (id) DO UPDATE SET title = excluded.title WHERE notes.owner_id = :owner"
    )]
    async fn upsert(
        &self,
        scope: &Scope,
        id: Uuid,
        folder: Uuid,
        title: String,
    ) -> ApiResult<u64>;

    /// A data-modifying CTE (runs on the primary).
    #[query(
        "WITH gone AS (DELETE FROM notes WHERE owner_id = :owner AND title = :title RETURNING id) \
         SELECT COUNT(*) FROM gone"
    )]
    async fn delete_titled(&self, scope: &Scope, title: String) -> ApiResult<i64>;

    /// Every owner's rows, for admins.
    #[query("SELECT COUNT(*) FROM notes n JOIN folders f ON f.id = n.folder_id")]
    async fn count_all(&self, admin: &UnscopedAdmin) -> ApiResult<i64>;
}

#[repository(Label)]
trait LabelRepo {
    #[query("SELECT id, text FROM labels WHERE text = :text")]
    async fn find(&self, text: &str) -> ApiResult<Option<Label>>;
}

fn main() {
    let _: fn(NoteRepo, LabelRepo) = |_, _| {};
}
