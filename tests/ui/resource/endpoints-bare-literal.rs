// `endpoints("/notes")`: the path without its key, one error (not also a missing `path`).
use rampart::prelude::*;
use uuid::Uuid;

#[resource(table = "notes", endpoints("/notes"))]
struct Note {
    #[resource(id)]
    id: Uuid,
    title: String,
}

fn main() {}
