// UPDATE ... JOIN, which the owner check does not follow.
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
    #[query("UPDATE notes JOIN folders ON folders.id = notes.folder_id SET title = :title WHERE notes.owner_id = :owner")]
    async fn retitle(&self, scope: &Scope, title: String) -> ApiResult<u64>;
}

fn main() {}
