// `cache` on a statement that writes: a write's answer is not kept.
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
    #[query("UPDATE notes SET title = :title WHERE owner_id = :owner", cache(ttl = "60s"))]
    async fn rename_all(&self, scope: &Scope, title: String) -> ApiResult<u64>;
}

fn main() {}
