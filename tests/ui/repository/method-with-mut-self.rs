// A repository method taking `&mut self`.
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
    async fn count(&mut self, admin: &UnscopedAdmin) -> ApiResult<i64>;
}

fn main() {}
