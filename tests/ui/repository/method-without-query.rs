// A repository method without its `#[query]`.
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
    async fn count(&self, admin: &UnscopedAdmin) -> ApiResult<i64>;
}

fn main() {}
