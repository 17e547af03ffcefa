// `#[repository(..)]` that does not start with the resource type.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", owner = owner_id)]
struct Note {
    #[resource(id)]
    id: Uuid,
    owner_id: Uuid,
    title: String,
}

#[repository("notes")]
trait NoteRepo {
    #[query("SELECT COUNT(*) FROM notes")]
    async fn count(&self, admin: &UnscopedAdmin) -> ApiResult<i64>;
}

fn main() {}
