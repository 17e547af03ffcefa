// Two `#[resource(parent = ..)]` fields.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "folders")]
struct Folder {
    #[resource(id)]
    id: Uuid,
}

#[resource(table = "notes")]
struct Note {
    #[resource(id)]
    id: Uuid,
    #[resource(parent = Folder)]
    folder_id: Uuid,
    #[resource(parent = Folder)]
    archive_id: Uuid,
}

fn main() {}
