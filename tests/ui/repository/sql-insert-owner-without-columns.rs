// An INSERT binding `:owner` without naming its columns.
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
    #[query("INSERT INTO notes VALUES (:id, :owner, :folder, :title)")]
    async fn add(&self, scope: &Scope, id: Uuid, folder: Uuid, title: String) -> ApiResult<u64>;
}

fn main() {}
