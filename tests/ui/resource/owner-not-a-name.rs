// The owner field given as a number: one error at the value.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", owner = 1)]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
