// An operator holding `--`: PostgreSQL reads a comment from there, the check does not.
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
    #[query("SELECT id, owner_id, folder_id, title FROM notes WHERE owner_id = :owner AND 1 &--1 = 1")]
    async fn all(&self, scope: &Scope) -> ApiResult<Vec<Note>>;
}

fn main() {}
