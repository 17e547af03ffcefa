// An argument (`limit`) the query never binds.
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
    #[query("SELECT id, owner_id, title FROM notes WHERE owner_id = :owner")]
    async fn mine(&self, scope: &Scope, limit: i64) -> ApiResult<Vec<Note>>;
}

fn main() {}
