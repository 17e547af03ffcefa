// `invalidates` on a write names tables as a list of strings.
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
    #[query(
        "DELETE FROM notes WHERE id = :id AND owner_id = :owner",
        invalidates = "note_counts"
    )]
    async fn remove(&self, scope: &Scope, id: Uuid) -> ApiResult<u64>;
}

fn main() {}
