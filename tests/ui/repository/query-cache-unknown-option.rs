// A key `cache(..)` on a query does not have (`shared`: an entry is per bound value, the owner among them).
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
    #[query("SELECT COUNT(*) FROM notes WHERE owner_id = :owner", cache(ttl = "60s", shared))]
    async fn count(&self, scope: &Scope) -> ApiResult<i64>;
}

fn main() {}
