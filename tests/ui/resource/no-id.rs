// A resource without an `#[resource(id)]` field.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes")]
struct Note {
    owner_id: Uuid,
    title: String,
}

fn main() {}
