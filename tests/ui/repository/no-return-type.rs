// A repository method with no return type.
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
    #[query("DELETE FROM notes")]
    async fn clear(&self, admin: &UnscopedAdmin);
}

fn main() {}
