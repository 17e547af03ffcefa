// The owner field is not a `Uuid`.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", owner = owner)]
struct Note {
    #[resource(id)]
    id: Uuid,
    owner: String,
}

fn main() {}
