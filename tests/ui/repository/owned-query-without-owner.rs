// A custom query on an owned resource that does not bind `:owner`.
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
    #[query("SELECT id, owner_id, title FROM notes WHERE title = :title")]
    async fn by_title(&self, title: String) -> ApiResult<Vec<Note>>;
}

fn main() {}
