// An unknown argument after the resource in `#[repository(..)]`.
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

#[repository(Note, joins(Folder))]
trait Repo {
    #[query("SELECT COUNT(*) FROM notes WHERE owner_id = :owner")]
    async fn count(&self, scope: &Scope) -> ApiResult<i64>;
}

fn main() {}
