// An unqualified `owner_id = :owner` with several tables: which one it constrains is ambiguous.
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
    #[query("SELECT n.id, n.owner_id, n.folder_id, n.title FROM notes n JOIN folders f ON f.id = n.folder_id WHERE owner_id = :owner")]
    async fn mine(&self, scope: &Scope) -> ApiResult<Vec<Note>>;
}

fn main() {}
