// `cache(..)` on repository reads of every shape, and a write beside them.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", owner = owner_id)]
#[derive(serde::Deserialize)]
struct Note {
    #[resource(id)]
    id: Uuid,
    owner_id: Uuid,
    title: String,
}

#[repository(Note)]
trait NoteRepo {
    /// Rows.
    #[query("SELECT * FROM notes WHERE owner_id = :owner", cache(ttl = "60s"))]
    async fn all(&self, scope: &Scope) -> ApiResult<Vec<Note>>;

    /// One row or none, with its own grace.
    #[query(
        "SELECT * FROM notes WHERE id = :id AND owner_id = :owner",
        cache(ttl = "10s", stale_if_error = "0s")
    )]
    async fn find(&self, scope: &Scope, id: Uuid) -> ApiResult<Option<Note>>;

    /// One row, 404 when none.
    #[query("SELECT * FROM notes WHERE id = :id AND owner_id = :owner", cache(ttl = "1d"))]
    async fn one(&self, scope: &Scope, id: Uuid) -> ApiResult<Note>;

    /// A count, across owners.
    #[query("SELECT COUNT(*) FROM notes", cache(ttl = "1s", stale_if_error = "1d"))]
    async fn count(&self, admin: &UnscopedAdmin) -> ApiResult<i64>;

    /// A write is not cached; it makes the reads above stale.
    #[query("UPDATE notes SET title = :title WHERE owner_id = :owner")]
    async fn rename_all(&self, scope: &Scope, title: String) -> ApiResult<u64>;
}

fn main() {}
