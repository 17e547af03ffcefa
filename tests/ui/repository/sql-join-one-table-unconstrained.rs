// A join that constrains one owned table and not the other.
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
    #[query("SELECT n.id, n.owner_id, n.folder_id, n.title FROM notes n JOIN folders f ON f.id = n.folder_id WHERE n.owner_id = :owner AND f.name = :name")]
    async fn in_folder(&self, scope: &Scope, name: String) -> ApiResult<Vec<Note>>;
}

fn main() {}
