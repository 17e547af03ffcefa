// `SELECT ... INTO`, which creates a table.
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
    #[query("SELECT id INTO copied FROM notes WHERE owner_id = :owner")]
    async fn copy(&self, scope: &Scope) -> ApiResult<u64>;
}

fn main() {}
