// `INSERT ... SELECT *`: a wildcard hides which column `:owner` fills.
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
    #[query("INSERT INTO notes (id, owner_id, folder_id, title) SELECT *, :owner FROM (SELECT :id AS a, :victim AS b, :folder AS c) v")]
    async fn plant(&self, scope: &Scope, id: Uuid, victim: Uuid, folder: Uuid) -> ApiResult<u64>;
}

fn main() {}
