// An INSERT into an owned table that does not set the owner from `:owner`.
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
    #[query("INSERT INTO notes (id, folder_id, title) VALUES (:id, :folder, :title)")]
    async fn add(&self, id: Uuid, folder: Uuid, title: String) -> ApiResult<u64>;
}

fn main() {}
