// A pagination mode rampart does not have.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", pagination = "pages")]
struct Note {
    #[resource(id)]
    id: Uuid,
}

fn main() {}
