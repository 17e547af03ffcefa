// A field marker `#[resource(..)]` does not have.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes")]
struct Note {
    #[resource(id)]
    id: Uuid,
    #[resource(filtr)]
    title: String,
}

fn main() {}
