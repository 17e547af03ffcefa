// A CTE body reading an owned table without `:owner` (the outer WHERE constrains the CTE, not the table).
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
    #[query("WITH every AS (SELECT id, owner_id, folder_id, title FROM notes) SELECT id, owner_id, folder_id, title FROM every WHERE owner_id = :owner")]
    async fn mine(&self, scope: &Scope) -> ApiResult<Vec<Note>>;
}

fn main() {}
