// A cached query whose row type cannot be kept: the resource has no `Deserialize`.
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
    #[query("SELECT * FROM notes WHERE owner_id = :owner", cache(ttl = "60s"))]
    async fn all(&self, scope: &Scope) -> ApiResult<Vec<Note>>;
}

fn main() {}
