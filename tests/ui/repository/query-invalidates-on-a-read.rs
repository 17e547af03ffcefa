// `invalidates` is for writes: a read makes nothing stale.
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
        "SELECT COUNT(*) FROM notes WHERE owner_id = :owner",
        invalidates = ["note_counts"]
    )]
    async fn count(&self, scope: &Scope) -> ApiResult<i64>;
}

fn main() {}
