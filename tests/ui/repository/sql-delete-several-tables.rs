// A DELETE from several tables.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "folders", owner = owner_id)]
struct Folder {
    #[resource(id)]
    id: Uuid,
    owner_id: Uuid,
    name: String,
}

#[resource(table = "notes", owner = owner_id)]
struct Note {
    #[resource(id)]
    id: Uuid,
    owner_id: Uuid,
    #[resource(parent = Folder)]
    folder_id: Uuid,
    title: String,
}

#[resource(table = "labels")]
struct Label {
    #[resource(id)]
    id: Uuid,
    text: String,
}

#[repository(Note)]
trait Repo {
    #[query("DELETE FROM notes, folders WHERE notes.owner_id = :owner")]
    async fn clear(&self, scope: &Scope) -> ApiResult<u64>;
}

fn main() {}
