// A repository argument that is a pattern, not a name the query can bind.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", owner = owner_id)]
struct Note {
    #[resource(id)]
    id: Uuid,
    owner_id: Uuid,
    title: String,
}

#[repository(Note)]
trait NoteRepo {
    #[query("SELECT COUNT(*) FROM notes")]
    async fn count(&self, admin: &UnscopedAdmin, _: Uuid) -> ApiResult<i64>;
}

fn main() {}
