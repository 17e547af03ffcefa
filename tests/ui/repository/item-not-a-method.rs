// A repository trait holding something other than `#[query]` methods.
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
    const LIMIT: i64 = 10;

    #[query("SELECT COUNT(*) FROM notes")]
    async fn count(&self, admin: &UnscopedAdmin) -> ApiResult<i64>;
}

fn main() {}
