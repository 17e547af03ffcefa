// A repository method without `&self`: its first argument stays an argument.
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
    async fn titled(title: String, admin: &UnscopedAdmin) -> ApiResult<Vec<Note>>;
}

fn main() {}
