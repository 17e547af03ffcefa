// A table name that is not a plain snake_case name.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "Notes-Table")]
struct Note {
    #[resource(id)]
    id: Uuid,
}

fn main() {}
