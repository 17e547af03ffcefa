// `SET owner_id = :victim`: a scoped update hands the row to another owner.
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
    #[query("UPDATE notes SET owner_id = :victim WHERE id = :id AND owner_id = :owner")]
    async fn give(&self, scope: &Scope, id: Uuid, victim: Uuid) -> ApiResult<u64>;
}

fn main() {}
