// A function that runs SQL given as text (what it reads, the check cannot see).
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
    #[query("SELECT length(query_to_xml('SELECT password_hash FROM rampart_users', true, false, '')) FROM notes WHERE owner_id = :owner")]
    async fn dump(&self, scope: &Scope) -> ApiResult<i64>;
}

fn main() {}
