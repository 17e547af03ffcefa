// `path` without quotes: one error at the value (not also a missing `path`).
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", endpoints(path = notes))]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
