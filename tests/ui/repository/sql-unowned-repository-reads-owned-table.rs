// A repository anchored on an unowned resource reading an owned table without `:owner`.
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

#[repository(Label, tables(Note))]
trait Repo {
    #[query("SELECT COUNT(*) FROM notes WHERE title = :title")]
    async fn count(&self, title: String) -> ApiResult<i64>;
}

fn main() {}
