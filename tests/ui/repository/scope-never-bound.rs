// A method taking a `Scope` whose query never binds `:owner`.
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
    #[query("SELECT COUNT(*) FROM notes WHERE title = :title")]
    async fn count(&self, scope: &Scope, title: String) -> ApiResult<i64>;
}

fn main() {}
