// `tables` written as a key-value pair instead of a list in parentheses.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", owner = owner_id)]
struct Note {
    #[resource(id)]
    id: Uuid,
    owner_id: Uuid,
    title: String,
}


#[resource(table = "labels")]
struct Label {
    #[resource(id)]
    id: Uuid,
    text: String,
}

#[repository(Note, tables = Label)]
trait NoteRepo {
    #[query("SELECT COUNT(*) FROM notes")]
    async fn count(&self, admin: &UnscopedAdmin) -> ApiResult<i64>;
}

fn main() {}
