// A key `#[resource(..)]` does not have (`paginaton`).
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", paginaton = "offset")]
struct Note {
    #[resource(id)]
    id: Uuid,
}

fn main() {}
