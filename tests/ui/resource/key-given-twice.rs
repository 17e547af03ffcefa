// A key given twice: one error at the second.
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", table = "tasks")]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
