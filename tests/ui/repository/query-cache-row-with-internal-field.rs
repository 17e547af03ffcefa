// A cached query whose row type is a resource with an internal field: its JSON leaves the
// field out, so the cache could not give it back.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", owner = owner_id)]
#[derive(serde::Deserialize)]
struct Note {
    #[resource(id)]
    id: Uuid,
    owner_id: Uuid,
    title: String,
    #[resource(internal)]
    #[serde(default)]
    secret: String,
}

#[repository(Note)]
trait NoteRepo {
    #[query("SELECT * FROM notes WHERE owner_id = :owner", cache(ttl = "60s"))]
    async fn all(&self, scope: &Scope) -> ApiResult<Vec<Note>>;
}

fn main() {}
