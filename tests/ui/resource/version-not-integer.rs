// The version field is not an integer.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", version = version)]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
    version: String,
}

fn main() {}
