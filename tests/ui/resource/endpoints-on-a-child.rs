// `endpoints(...)` on a resource with a parent: it serves top-level resources only.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "folders")]
struct Folder {
    #[resource(id)]
    id: Uuid,
}

#[resource(table = "notes", endpoints(path = "/notes"))]
struct Note {
    #[resource(id)]
    id: Uuid,
    #[resource(parent = Folder)]
    folder_id: Uuid,
}

fn main() {}
