// A repository method whose return type is not `ApiResult<..>`.
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
    async fn count(&self, admin: &UnscopedAdmin) -> i64;
}

fn main() {}
