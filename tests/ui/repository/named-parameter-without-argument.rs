// A named parameter (`:title`) that no argument provides.
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
    #[query("SELECT id, owner_id, title FROM notes WHERE owner_id = :owner AND title = :title")]
    async fn by_title(&self, scope: &Scope) -> ApiResult<Vec<Note>>;
}

fn main() {}
