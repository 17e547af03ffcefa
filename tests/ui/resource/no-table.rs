// No `table` at all: one error at the attribute, with the key to add.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(pagination = "offset")]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
